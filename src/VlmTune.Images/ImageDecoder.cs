using VlmTune.Images.Jpeg;
using VlmTune.Images.Png;

namespace VlmTune.Images;

/// <summary>
/// Entry point for decoding: sniffs the format from the magic bytes and hands the data to the matching codec.
/// <see cref="Open(ReadOnlySpan{byte}, string, DecodeOptions?)"/> gives the image in its own mode (what Pillow's
/// <c>Image.open</c> holds and transformers' processors receive); <see cref="Decode(ReadOnlySpan{byte}, string, DecodeOptions?)"/>
/// converts it to RGB as Pillow's <c>convert("RGB")</c> does (transformers 5.x; see <see cref="DecodedImage.ToRgb"/>).
/// </summary>
public static class ImageDecoder
{
    /// <summary>The codecs tried in order; the first whose <see cref="IImageCodec.CanDecode"/> is true decodes.</summary>
    public static IReadOnlyList<IImageCodec> DefaultCodecs { get; } = [new PngCodec(), new JpegCodec()];

    /// <summary>Decodes and converts to RGB (Pillow's <c>convert("RGB")</c>: alpha dropped, not composited).</summary>
    public static RgbImage Decode(ReadOnlySpan<byte> data, string sourceName, DecodeOptions? options = null) =>
        Open(data, sourceName, options).ToRgb();

    public static RgbImage Decode(ReadOnlySpan<byte> data, string sourceName, DecodeOptions options,
        IReadOnlyList<IImageCodec> codecs) => Open(data, sourceName, options, codecs).ToRgb();

    /// <summary>Decodes to the image's own mode (RGBA, gray, palette, ...), as Pillow's <c>Image.open</c>.</summary>
    public static DecodedImage Open(ReadOnlySpan<byte> data, string sourceName, DecodeOptions? options = null) =>
        Open(data, sourceName, options ?? DecodeOptions.Default, DefaultCodecs);

    public static DecodedImage Open(ReadOnlySpan<byte> data, string sourceName, DecodeOptions options,
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
            $"unsupported image format ({DescribeFormat(data)}); only PNG and JPEG are supported");
    }

    /// <summary>Reads and decodes a file to RGB (see <see cref="Decode(ReadOnlySpan{byte}, string, DecodeOptions?)"/>).</summary>
    public static RgbImage Load(string path, DecodeOptions? options = null) => LoadOpen(path, options).ToRgb();

    /// <summary>Reads and decodes a file in its own mode (see <see cref="Open(ReadOnlySpan{byte}, string, DecodeOptions?)"/>).</summary>
    public static DecodedImage LoadOpen(string path, DecodeOptions? options = null)
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
        return Open(data, path, options);
    }

    /// <summary>Throws when width × height exceeds the configured limit (checked before allocating pixels).</summary>
    internal static void CheckPixelLimit(long width, long height, string sourceName, DecodeOptions options)
    {
        long pixels = width * height;
        if (pixels > options.MaxPixels)
            throw new ImageFormatException(sourceName,
                $"image is {width}x{height} = {pixels} pixels, more than the limit of {options.MaxPixels} " +
                "(Pillow's decompression-bomb default)");
        if (pixels * 3 > Array.MaxLength)
            throw new ImageFormatException(sourceName, $"image is {width}x{height}, too large for one RGB buffer");
    }

    /// <summary>
    /// Names a recognised non-PNG/JPEG format by its signature. The bytes themselves are never shown: the "image"
    /// may be any file (a link to a password file, say), and an error message must not leak its content.
    /// </summary>
    private static string DescribeFormat(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return "the data is empty";
        if (data.StartsWith("BM"u8)) return "BMP";
        if (data.StartsWith("GIF8"u8)) return "GIF";
        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8)) return "WebP";
        if (data.StartsWith("II*\0"u8) || data.StartsWith("MM\0*"u8)) return "TIFF";
        if (data.Length >= 12 && data[4..8].SequenceEqual("ftyp"u8)) return "HEIF/AVIF or another ISO media file";
        if (data.StartsWith("\0\0\u0001\0"u8)) return "ICO";
        if (data.StartsWith("%PDF"u8)) return "PDF";
        return "not a recognised image signature; the content is not shown";
    }
}
