namespace VlmTune.Images;

/// <summary>
/// The seam between <see cref="ImageDecoder"/> and a concrete codec. The managed PNG and JPEG decoders implement it;
/// another implementation (for example one backed by an external library) can be registered in their place.
/// </summary>
public interface IImageCodec
{
    /// <summary>Short format name used in messages ("PNG", "JPEG").</summary>
    string FormatName { get; }

    /// <summary>True when the leading bytes carry this format's signature.</summary>
    bool CanDecode(ReadOnlySpan<byte> header);

    /// <summary>Decodes to 8-bit RGB (alpha composited over white, EXIF orientation applied when asked).</summary>
    /// <exception cref="ImageFormatException">for any unsupported, corrupt or oversized input.</exception>
    RgbImage Decode(ReadOnlySpan<byte> data, string sourceName, DecodeOptions options);
}
