using VlmTune.Images.Jpeg;
using VlmTune.Images.Png;

namespace VlmTune.Images;

/// <summary>
/// The size an image will have once decoded (EXIF orientation applied, as <see cref="ImageDecoder"/> does), read from
/// its headers without decoding a pixel: PNG's IHDR (+ eXIf), JPEG's frame header (+ APP1 Exif) before the first
/// scan. The same format checks run as in decoding up to that point (signature, CRCs, bit depth, JPEG process, pixel
/// limit), so a file that passes here fails later only if its compressed pixel data is damaged.
/// </summary>
public static class ImageHeader
{
    /// <exception cref="ImageFormatException">Not PNG or JPEG, a malformed header, or more pixels than allowed.</exception>
    public static (int Width, int Height) ReadSize(ReadOnlySpan<byte> data, string sourceName, DecodeOptions? options = null)
    {
        var (width, height, _) = Read(data, sourceName, options);
        return (width, height);
    }

    /// <summary>The decoded size and the <see cref="ImageMode"/> the decoder will give (a JPEG with 3 components: RGB).</summary>
    /// <exception cref="ImageFormatException">Not PNG or JPEG, a malformed header, or more pixels than allowed.</exception>
    public static (int Width, int Height, ImageMode Mode) Read(ReadOnlySpan<byte> data, string sourceName, DecodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        options ??= DecodeOptions.Default;
        int width, height, orientation;
        ImageMode mode;
        if (data.Length >= 8 && data[..8].SequenceEqual(PngChunkReader.Signature))
        {
            var png = PngChunkReader.Read(data, sourceName);
            var h = png.Header;
            (width, height) = (h.Width, h.Height);
            orientation = png.Exif != null ? ExifOrientation.Read(png.Exif) : 1;
            mode = h.Mode;
        }
        else if (data.Length >= 2 && data[0] == 0xFF && data[1] == 0xD8)
        {
            int components;
            (width, height, orientation, components) = JpegHeader.Read(data, sourceName);
            mode = components == 1 ? ImageMode.Gray : ImageMode.Rgb;
        }
        else
            throw new ImageFormatException(sourceName, "unsupported image format; only PNG and JPEG are supported");
        ImageDecoder.CheckPixelLimit(width, height, sourceName, options);
        bool swap = options.ApplyExifOrientation && orientation is >= 5 and <= 8;   // transpose, rotations by 90°
        return swap ? (height, width, mode) : (width, height, mode);
    }
}
