using VlmTune.Images.Jpeg;
using VlmTune.Images.Png;

namespace VlmTune.Images;

/// <summary>
/// Entry point for decoding: sniffs the format from the magic bytes and hands the data to the matching codec.
/// Output is always 8-bit RGB (see <see cref="RgbImage"/>).
/// </summary>
public static class ImageDecoder
{
    /// <summary>The codecs tried in order; the first whose <see cref="IImageCodec.CanDecode"/> is true decodes.</summary>
    public static IReadOnlyList<IImageCodec> DefaultCodecs { get; } = [new PngCodec(), new JpegCodec()];

    public static RgbImage Decode(ReadOnlySpan<byte> data, string sourceName, DecodeOptions? options = null) =>
        Decode(data, sourceName, options ?? DecodeOptions.Default, DefaultCodecs);

    public static RgbImage Decode(ReadOnlySpan<byte> data, string sourceName, DecodeOptions options,
        IReadOnlyList<IImageCodec> codecs)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxPixels <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxPixels must be positive, got {options.MaxPixels}");
        foreach (var codec in codecs)
        {
            if (codec.CanDecode(data))
                return codec.Decode(data, sourceName, options);
        }
        throw new ImageFormatException(sourceName,
            $"unsupported image format (first bytes {DescribeFirstBytes(data)}); only PNG and JPEG are supported");
    }

    public static RgbImage Load(string path, DecodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"image file not found: {path}", path, e);
        }
        return Decode(data, path, options);
    }

    /// <summary>Throws when width × height exceeds the configured limit (checked before allocating pixels).</summary>
    internal static void CheckPixelLimit(long width, long height, string sourceName, DecodeOptions options)
    {
        long pixels = width * height;
        if (pixels > options.MaxPixels)
            throw new ImageFormatException(sourceName,
                $"image is {width}x{height} = {pixels} pixels, more than the limit of {options.MaxPixels} " +
                "(DecodeOptions.MaxPixels; Pillow's decompression-bomb default)");
        if (pixels * 3 > Array.MaxLength)
            throw new ImageFormatException(sourceName, $"image is {width}x{height}, too large for one RGB buffer");
    }

    private static string DescribeFirstBytes(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return "none: the data is empty";
        var head = data[..Math.Min(8, data.Length)];
        return string.Join(' ', head.ToArray().Select(b => b.ToString("X2")));
    }
}
