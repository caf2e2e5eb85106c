namespace VlmTune.Images.Png;

/// <summary>The IHDR fields the decoder needs, validated.</summary>
/// <param name="ColorType">0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.</param>
internal readonly record struct PngHeader(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
{
    /// <summary>Samples per pixel: 1, 3, 1, 2, 4 for colour types 0, 2, 3, 4, 6.</summary>
    public int Channels => ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };

    public int BitsPerPixel => Channels * BitDepth;

    /// <summary>The mode Pillow 9.4's PngImagePlugin opens this colour type and depth as.</summary>
    public ImageMode Mode => ColorType switch
    {
        0 => BitDepth == 1 ? ImageMode.Bilevel : BitDepth == 16 ? ImageMode.Gray16 : ImageMode.Gray,
        2 => ImageMode.Rgb,
        3 => ImageMode.Palette,
        4 => ImageMode.GrayAlpha,
        _ => ImageMode.Rgba,
    };

    /// <summary>Filter step: bytes per complete pixel, at least 1.</summary>
    public int FilterStride => Math.Max(1, BitsPerPixel / 8);

    /// <summary>Bytes in one filtered row of <paramref name="pixels"/> pixels, without the filter-type byte.</summary>
    public long RowBytes(long pixels) => (pixels * BitsPerPixel + 7) / 8;

    public static bool IsValidCombination(int colorType, int bitDepth) => colorType switch
    {
        0 => bitDepth is 1 or 2 or 4 or 8 or 16,
        3 => bitDepth is 1 or 2 or 4 or 8,
        2 or 4 or 6 => bitDepth is 8 or 16,
        _ => false,
    };
}
