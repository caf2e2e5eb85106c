namespace VlmTune.Images;

/// <summary>
/// An image as Pillow's <c>Image.open</c> holds it: its <see cref="Mode"/> and the samples of that mode, rows top to
/// bottom, channels interleaved, no row padding (EXIF orientation applied when asked). Transparency that is not an
/// alpha channel (a PNG colour key, a palette's tRNS alphas) is not kept: neither transformers 4.x nor 5.x lets it
/// reach the pixels (see datasets.md, "Images that are not plain RGB"). <see cref="ToRgb"/> is Pillow's
/// <c>convert("RGB")</c>.
/// </summary>
public sealed class DecodedImage
{
    public int Width { get; }
    public int Height { get; }
    public ImageMode Mode { get; }
    /// <summary>Width × Height × <see cref="BytesPerPixel"/> bytes.</summary>
    public byte[] Samples { get; }
    /// <summary>For <see cref="ImageMode.Palette"/>: R,G,B per entry (every index in <see cref="Samples"/> is an entry); else null.</summary>
    public byte[]? Palette { get; }

    public DecodedImage(int width, int height, ImageMode mode, byte[] samples, byte[]? palette = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}x{height}");
        long expected = (long)width * height * BytesPer(mode);
        if (samples.Length != expected)
            throw new ArgumentException($"a {width}x{height} {mode} image has {expected} bytes, got {samples.Length}", nameof(samples));
        if ((mode == ImageMode.Palette) != (palette != null))
            throw new ArgumentException("a palette goes with ImageMode.Palette and only with it", nameof(palette));
        if (palette != null && (palette.Length == 0 || palette.Length % 3 != 0 || palette.Length > 768))
            throw new ArgumentException($"a palette has 1..256 R,G,B entries, got {palette.Length} bytes", nameof(palette));
        if (palette != null)
        {
            int max = 0;
            foreach (byte b in samples) max = Math.Max(max, b);
            if (max >= palette.Length / 3)
                throw new ArgumentException($"a palette index is {max}, the palette has {palette.Length / 3} entries", nameof(samples));
        }
        Width = width;
        Height = height;
        Mode = mode;
        Samples = samples;
        Palette = palette;
    }

    /// <summary>An RGB image viewed as a decoded one (no copy).</summary>
    public static DecodedImage FromRgb(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new DecodedImage(image.Width, image.Height, ImageMode.Rgb, image.Pixels);
    }

    public int BytesPerPixel => BytesPer(Mode);

    public static int BytesPer(ImageMode mode) => mode switch
    {
        ImageMode.Rgb => 3,
        ImageMode.Rgba => 4,
        ImageMode.GrayAlpha or ImageMode.Gray16 => 2,
        _ => 1,
    };

    /// <summary>
    /// Pillow's <c>convert("RGB")</c>, which is transformers 5.x's <c>convert_to_rgb</c>: alpha is dropped (the colour
    /// under a transparent pixel is kept as stored, never composited), gray is replicated, a palette index becomes its
    /// entry, 16-bit gray is clamped to 255 (Pillow's I → RGB), 1-bit gray is 0 or 255. An RGB image shares its bytes.
    /// </summary>
    public RgbImage ToRgb()
    {
        if (Mode == ImageMode.Rgb) return new RgbImage(Width, Height, Samples);
        int n = Width * Height;
        var rgb = new byte[checked(n * 3)];
        var s = Samples;
        switch (Mode)
        {
            case ImageMode.Rgba:
                for (int i = 0; i < n; i++)
                {
                    rgb[3 * i] = s[4 * i];
                    rgb[3 * i + 1] = s[4 * i + 1];
                    rgb[3 * i + 2] = s[4 * i + 2];
                }
                break;
            case ImageMode.GrayAlpha:
                for (int i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = s[2 * i];
                break;
            case ImageMode.Palette:
                var p = Palette!;
                for (int i = 0; i < n; i++)
                {
                    int e = 3 * s[i];
                    rgb[3 * i] = p[e];
                    rgb[3 * i + 1] = p[e + 1];
                    rgb[3 * i + 2] = p[e + 2];
                }
                break;
            case ImageMode.Gray16:
                for (int i = 0; i < n; i++)
                {
                    byte g = s[2 * i] != 0 ? (byte)255 : s[2 * i + 1];
                    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = g;
                }
                break;
            default:   // Gray, Bilevel
                for (int i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = s[i];
                break;
        }
        return new RgbImage(Width, Height, rgb);
    }
}
