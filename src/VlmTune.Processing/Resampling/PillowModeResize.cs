using VlmTune.Images;

namespace VlmTune.Processing.Resampling;

/// <summary>
/// Pillow's <c>Image.resize</c> for the two non-RGB cases transformers 4.x's slow SmolVLM / Idefics3 processor
/// reaches (Pillow 9.4 <c>Image.resize</c>, <c>_imaging.c _resize</c>, <c>libImaging/Geometry.c</c>, <c>Convert.c</c>):
/// <list type="bullet">
/// <item><see cref="Nearest"/>: a one-channel array becomes a mode-"P" image, and Pillow resizes "P" (and "1") with
///   NEAREST whatever filter was asked: an affine map a = (w/W, h/H) sampled by <c>ImagingScaleAffine</c> at
///   <c>(int)(a·0.5 + a·i)</c>, the offset accumulated in double one output pixel at a time, as Pillow does;</item>
/// <item><see cref="Rgba"/>: an "RGBA" image is premultiplied ("RGBa", <c>rgbA2rgba</c>: c·a/255 rounded), resized per
///   channel with the convolution of <see cref="PillowResize"/>, then un-premultiplied (<c>rgba2rgbA</c>:
///   min(255, 255·c / a) truncated; a = 0 or 255 keep c).</item>
/// </list>
/// Same size → the image itself (Pillow's copy short-cut comes before both).
/// </summary>
public static class PillowModeResize
{
    /// <summary>NEAREST resize of a one-byte-per-pixel image (gray, palette indices, bilevel).</summary>
    public static DecodedImage Nearest(DecodedImage src, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (src.BytesPerPixel != 1)
            throw new ArgumentException($"NEAREST here takes one-byte-per-pixel images, got {src.Mode}", nameof(src));
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"target size must be positive, got {width}x{height}");
        if (width == src.Width && height == src.Height) return src;

        double ax = (double)src.Width / width, ay = (double)src.Height / height;
        var xin = new int[width];
        int xmin = width, xmax = 0;
        double xo = ax * 0.5;
        for (int x = 0; x < width; x++)
        {
            int xi = xo < 0.0 ? -1 : (int)xo;
            if (xi >= 0 && xi < src.Width)
            {
                xmax = x + 1;
                if (x < xmin) xmin = x;
                xin[x] = xi;
            }
            xo += ax;
        }
        var dst = new byte[checked(width * height)];   // Pillow fills first: pixels mapped outside stay 0
        var s = src.Samples;
        double yo = ay * 0.5;
        for (int y = 0; y < height; y++)
        {
            int yi = yo < 0.0 ? -1 : (int)yo;
            if (yi >= 0 && yi < src.Height)
            {
                int row = yi * src.Width, o = y * width;
                for (int x = xmin; x < xmax; x++) dst[o + x] = s[row + xin[x]];
            }
            yo += ay;
        }
        return new DecodedImage(width, height, src.Mode, dst, src.Palette);
    }

    /// <summary>Pillow's resize of an "RGBA" image with a convolution filter: premultiply, resize, un-premultiply.</summary>
    public static DecodedImage Rgba(DecodedImage src, int width, int height, ResampleFilter filter) =>
        Rgba(src, width, height, filter, ResamplePassAvx2.IsSupported);

    internal static DecodedImage Rgba(DecodedImage src, int width, int height, ResampleFilter filter, bool useAvx2)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (src.Mode != ImageMode.Rgba) throw new ArgumentException($"expected an RGBA image, got {src.Mode}", nameof(src));
        if (width == src.Width && height == src.Height) return src;
        int n = src.Width * src.Height;
        var s = src.Samples;
        // Channels are resampled independently with the same taps, so RGBa runs as two 3-channel images: the
        // premultiplied colour and the alpha (in all three channels).
        var color = new byte[checked(n * 3)];
        var alpha = new byte[checked(n * 3)];
        for (int i = 0; i < n; i++)
        {
            int a = s[4 * i + 3];
            color[3 * i] = MulDiv255(s[4 * i], a);
            color[3 * i + 1] = MulDiv255(s[4 * i + 1], a);
            color[3 * i + 2] = MulDiv255(s[4 * i + 2], a);
            alpha[3 * i] = alpha[3 * i + 1] = alpha[3 * i + 2] = (byte)a;
        }
        var c = PillowResize.ResizeOrSame(new RgbImage(src.Width, src.Height, color), width, height, filter, useAvx2).Pixels;
        var al = PillowResize.ResizeOrSame(new RgbImage(src.Width, src.Height, alpha), width, height, filter, useAvx2).Pixels;
        int m = width * height;
        var dst = new byte[checked(m * 4)];
        for (int i = 0; i < m; i++)
        {
            int a = al[3 * i];
            for (int k = 0; k < 3; k++)
            {
                int v = c[3 * i + k];
                dst[4 * i + k] = a is 0 or 255 ? (byte)v : (byte)Math.Min(255, 255 * v / a);
            }
            dst[4 * i + 3] = (byte)a;
        }
        return new DecodedImage(width, height, ImageMode.Rgba, dst);
    }

    /// <summary>Pillow's MULDIV255: round(a·b / 255) with shifts.</summary>
    static byte MulDiv255(int a, int b)
    {
        int t = a * b + 128;
        return (byte)(((t >> 8) + t) >> 8);
    }
}
