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

    /// <summary>Decodes to the samples of the image's own mode, as Pillow opens it (EXIF orientation applied when asked).</summary>
    /// <exception cref="ImageFormatException">for any unsupported, corrupt or oversized input.</exception>
    DecodedImage Decode(ReadOnlySpan<byte> data, string sourceName, DecodeOptions options);
}
