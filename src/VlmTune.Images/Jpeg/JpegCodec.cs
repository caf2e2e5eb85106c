namespace VlmTune.Images.Jpeg;

/// <summary>
/// Managed JPEG decoder matching libjpeg-turbo's <c>djpeg</c> defaults bit for bit: baseline/extended sequential and
/// progressive Huffman, 8-bit, grayscale/YCbCr/RGB, any integral sampling (4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1),
/// restart intervals, ISLOW integer IDCT, fancy upsampling, libjpeg's YCbCr tables; then EXIF orientation. Gray
/// JPEGs decode to <see cref="ImageMode.Gray"/> (Pillow's "L"), the others to <see cref="ImageMode.Rgb"/>.
/// Refused with <see cref="ImageFormatException"/>: CMYK/YCCK, arithmetic coding, 12-bit, lossless, hierarchical,
/// and any truncated or corrupt stream (where libjpeg would warn and pad with zeros).
/// </summary>
public sealed class JpegCodec : IImageCodec
{
    public string FormatName => "JPEG";

    public bool CanDecode(ReadOnlySpan<byte> header) =>
        header.Length >= 3 && header[0] == 0xFF && header[1] == 0xD8 && header[2] == 0xFF;

    public DecodedImage Decode(ReadOnlySpan<byte> data, string sourceName, DecodeOptions options) =>
        new JpegDecoder(data.ToArray(), sourceName, options).Decode();
}
