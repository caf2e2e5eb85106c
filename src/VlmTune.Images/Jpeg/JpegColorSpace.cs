namespace VlmTune.Images.Jpeg;

/// <summary>Colour space of the decoded components (libjpeg's jpeg_color_space for the cases we support).</summary>
internal enum JpegColorSpace
{
    Gray,
    YCbCr,
    Rgb,
}
