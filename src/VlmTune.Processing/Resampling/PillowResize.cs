using VlmTune.Images;

namespace VlmTune.Processing.Resampling;

/// <summary>
/// Byte-exact port of Pillow's <c>Image.resize((width, height), filter)</c> for 8-bit RGB images with the default
/// <c>box</c> and <c>reducing_gap=None</c> (what transformers' slow image processors call). Reproduces Pillow 9.4
/// (Debian bookworm's python3-pil; libImaging/Resample.c is unchanged in this respect through Pillow 11):
/// <list type="number">
/// <item>same size → a copy (Pillow's <c>_resize</c> short-cut);</item>
/// <item>otherwise a separable two-pass convolution, horizontal first, over only the source rows the vertical pass
///   will read; the horizontal result is clamped to uint8 before the vertical pass;</item>
/// <item>a pass is skipped when its axis keeps its size;</item>
/// <item>taps: support = filter support · max(in/out, 1), weights normalised in double then rounded to
///   fixed point with PRECISION_BITS = 22 (<see cref="ResampleCoefficients"/>).</item>
/// </list>
/// Layout: RGB interleaved, (H, W, 3).
/// </summary>
public static class PillowResize
{
    /// <summary>Pillow <c>Image.resize(size, Image.LANCZOS)</c> (a = 3).</summary>
    public static RgbImage Lanczos(RgbImage src, int width, int height) => Resize(src, width, height, ResampleFilter.Lanczos);

    /// <summary>Pillow <c>Image.resize(size, Image.BICUBIC)</c> (a = −0.5), used by transformers 5's default path.</summary>
    public static RgbImage Bicubic(RgbImage src, int width, int height) => Resize(src, width, height, ResampleFilter.Bicubic);

    /// <summary>Pillow <c>Image.resize(size, filter)</c> for any convolution filter (not <see cref="ResampleFilter.Nearest"/>).</summary>
    public static RgbImage Resize(RgbImage src, int width, int height, ResampleFilter filter)
    {
        RgbImage result = ResizeOrSame(src, width, height, filter, ResamplePassAvx2.IsSupported);
        return ReferenceEquals(result, src) ? new RgbImage(src.Width, src.Height, (byte[])src.Pixels.Clone()) : result;
    }

    /// <summary>As <see cref="Resize"/>, but returns <paramref name="src"/> itself when nothing changes.</summary>
    internal static RgbImage ResizeOrSame(RgbImage src, int width, int height, ResampleFilter filter, bool useAvx2)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"target size must be positive, got {width}x{height}");
        if (filter == ResampleFilter.Nearest || !Enum.IsDefined(filter))
            throw FilterKernel.Unsupported(filter);
        if (width == src.Width && height == src.Height)
            return src;

        bool needHorizontal = width != src.Width;
        bool needVertical = height != src.Height;
        var vertical = ResampleCoefficients.Compute(src.Height, height, filter);
        // Rows of the source the vertical pass reads: the horizontal pass produces only these.
        int firstRow = vertical.First[0];
        int lastRow = vertical.First[height - 1] + vertical.Count[height - 1];

        byte[] pixels = src.Pixels;
        int rowShift = 0;
        if (needHorizontal)
        {
            var horizontal = ResampleCoefficients.Compute(src.Width, width, filter);
            int rows = needVertical ? lastRow - firstRow : src.Height;
            int first = needVertical ? firstRow : 0;
            var temp = new byte[checked(rows * width * 3)];
            if (useAvx2) ResamplePassAvx2.Horizontal(pixels, src.Width, first, rows, horizontal, temp);
            else ResamplePassReference.Horizontal(pixels, src.Width, first, rows, horizontal, temp);
            pixels = temp;
            rowShift = first;
        }
        if (!needVertical)
            return new RgbImage(width, height, pixels);

        var output = new byte[checked(width * height * 3)];
        if (useAvx2) ResamplePassAvx2.Vertical(pixels, width, rowShift, vertical, output);
        else ResamplePassReference.Vertical(pixels, width, rowShift, vertical, output);
        return new RgbImage(width, height, output);
    }
}
