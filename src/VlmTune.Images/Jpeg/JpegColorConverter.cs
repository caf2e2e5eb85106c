namespace VlmTune.Images.Jpeg;

/// <summary>
/// YCbCr → RGB exactly as libjpeg-turbo's ycc_rgb_convert (jdcolor.c): 16-bit fixed-point tables built from
/// FIX(1.40200), FIX(1.77200), FIX(0.71414), FIX(0.34414) with ONE_HALF rounding, then clamped to 0..255.
/// </summary>
internal static class JpegColorConverter
{
    private const int ScaleBits = 16;
    private const int OneHalf = 1 << (ScaleBits - 1);

    private static readonly int[] s_crToR = new int[256];
    private static readonly int[] s_cbToB = new int[256];
    private static readonly int[] s_crToG = new int[256];
    private static readonly int[] s_cbToG = new int[256];

    static JpegColorConverter()
    {
        for (int i = 0; i < 256; i++)
        {
            int x = i - 128;
            s_crToR[i] = (Fix(1.40200) * x + OneHalf) >> ScaleBits;
            s_cbToB[i] = (Fix(1.77200) * x + OneHalf) >> ScaleBits;
            s_crToG[i] = -Fix(0.71414) * x;
            s_cbToG[i] = -Fix(0.34414) * x + OneHalf;
        }
    }

    private static int Fix(double v) => (int)(v * (1 << ScaleBits) + 0.5);

    /// <summary>Converts one row of <paramref name="width"/> pixels into interleaved RGB.</summary>
    public static void YccRow(ReadOnlySpan<byte> y, ReadOnlySpan<byte> cb, ReadOnlySpan<byte> cr, Span<byte> rgb, int width)
    {
        var crR = s_crToR;
        var cbB = s_cbToB;
        var crG = s_crToG;
        var cbG = s_cbToG;
        y = y[..width];
        cb = cb[..width];
        cr = cr[..width];
        rgb = rgb[..(3 * width)];
        for (int x = 0; x < width; x++)
        {
            int yy = y[x], b = cb[x], r = cr[x];
            rgb[3 * x] = Clamp(yy + crR[r]);
            rgb[3 * x + 1] = Clamp(yy + ((cbG[b] + crG[r]) >> ScaleBits));
            rgb[3 * x + 2] = Clamp(yy + cbB[b]);
        }
    }

    public static void RgbRow(ReadOnlySpan<byte> r, ReadOnlySpan<byte> g, ReadOnlySpan<byte> b, Span<byte> rgb, int width)
    {
        for (int x = 0; x < width; x++)
        {
            rgb[3 * x] = r[x];
            rgb[3 * x + 1] = g[x];
            rgb[3 * x + 2] = b[x];
        }
    }

    private static byte Clamp(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
}
