namespace VlmTune.Images;

/// <summary>
/// An 8-bit RGB image, rows top to bottom, pixels interleaved R,G,B with no row padding:
/// the pixel (x, y) starts at <c>Pixels[(y * Width + x) * 3]</c>. This is what <see cref="ImageDecoder.Decode(ReadOnlySpan{byte}, string, DecodeOptions?)"/>
/// returns (Pillow's <c>convert("RGB")</c> of the file, orientation applied) and what the resize stages work on.
/// </summary>
public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}x{height}");
        if (pixels.Length != checked(width * height * 3))
            throw new ArgumentException($"expected {width}x{height}x3 = {width * height * 3} bytes, got {pixels.Length}", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public RgbImage(int width, int height) : this(width, height, new byte[checked(width * height * 3)]) { }
}
