namespace VlmTune.Images;

/// <summary>
/// How a decoded image stores its pixels: the Pillow mode <c>Image.open</c> gives the same file, which is what
/// transformers' image processors receive. The samples of each mode are listed in <see cref="DecodedImage"/>.
/// </summary>
public enum ImageMode
{
    /// <summary>Pillow "RGB": 3 bytes per pixel (PNG colour type 2 at 8 or 16 bits, colour JPEG).</summary>
    Rgb,
    /// <summary>Pillow "RGBA": 4 bytes per pixel, alpha not premultiplied (PNG colour type 6).</summary>
    Rgba,
    /// <summary>Pillow "L": 1 byte per pixel (PNG gray at 2, 4 or 8 bits, scaled to 0..255; gray JPEG).</summary>
    Gray,
    /// <summary>Pillow "LA": gray + alpha, 2 bytes per pixel (PNG colour type 4).</summary>
    GrayAlpha,
    /// <summary>Pillow "P": 1 palette index per pixel, with <see cref="DecodedImage.Palette"/> (PNG colour type 3).</summary>
    Palette,
    /// <summary>Pillow "I" (Pillow 9.4; "I;16" in later versions): 16-bit gray, 2 bytes per pixel, big-endian.</summary>
    Gray16,
    /// <summary>Pillow "1": 1-bit gray, 1 byte per pixel holding 0 or 255 (PNG gray at 1 bit).</summary>
    Bilevel,
}
