using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VlmTune.Processing;

/// <summary>
/// HF's rescale-then-normalise of a uint8 sample, bit for bit, as a 256-entry float table per channel:
/// rescale = float32((double)u · rescale_factor) (image_transforms.rescale multiplies in float64, then casts);
/// normalise = (x − float32(mean)) / float32(std) in float32 (image_transforms.normalize). Without rescale the
/// sample is float32(u). For SmolVLM (1/255, mean = std = 0.5) every entry equals u / 127.5f − 1f (spec §9.1).
/// </summary>
public sealed class PixelNormalizer
{
    readonly float[] _table;   // (3, 256): channel-major
    readonly bool _useAvx2;

    public PixelNormalizer(ImageProcessorConfig config) : this(config, Avx2.IsSupported) { }

    internal PixelNormalizer(ImageProcessorConfig config, bool useAvx2)
    {
        _useAvx2 = useAvx2 && Avx2.IsSupported;
        ArgumentNullException.ThrowIfNull(config);
        _table = new float[3 * 256];
        for (int c = 0; c < 3; c++)
        {
            float mean = (float)config.ImageMean[c], std = (float)config.ImageStd[c];
            for (int u = 0; u < 256; u++)
            {
                float x = config.DoRescale ? (float)(u * config.RescaleFactor) : u;
                if (config.DoNormalize) x = (x - mean) / std;
                _table[c * 256 + u] = x;
            }
        }
    }

    /// <summary>The normalised value of sample <paramref name="u"/> in channel <paramref name="channel"/> (0 = R).</summary>
    public float Normalize(byte u, int channel) => _table[channel * 256 + u];

    /// <summary>
    /// Writes the M×M window at (x0, y0) of an interleaved RGB image (row stride <paramref name="srcWidth"/>·3)
    /// as planar CHW floats: dst (3, M, M).
    /// </summary>
    public void ToPlanar(ReadOnlySpan<byte> src, int srcWidth, int x0, int y0, int tileSize, Span<float> dst)
    {
        int plane = tileSize * tileSize;
        if (dst.Length < 3 * plane)
            throw new ArgumentException($"destination holds {dst.Length} floats, a (3, {tileSize}, {tileSize}) tile needs {3 * plane}", nameof(dst));
        if (x0 < 0 || y0 < 0 || x0 + tileSize > srcWidth || src.Length < ((y0 + tileSize - 1) * srcWidth + x0 + tileSize) * 3)
            throw new ArgumentException($"a {tileSize}x{tileSize} window at ({x0}, {y0}) does not fit a source of width {srcWidth} and {src.Length} bytes", nameof(src));
        if (_useAvx2)
        {
            ToPlanarAvx2(src, srcWidth, x0, y0, tileSize, dst);
            return;
        }
        ReadOnlySpan<float> red = _table.AsSpan(0, 256), green = _table.AsSpan(256, 256), blue = _table.AsSpan(512, 256);
        Span<float> r = dst[..plane], g = dst.Slice(plane, plane), b = dst.Slice(2 * plane, plane);
        for (int y = 0; y < tileSize; y++)
        {
            ReadOnlySpan<byte> row = src.Slice(((y0 + y) * srcWidth + x0) * 3, tileSize * 3);
            int o = y * tileSize;
            for (int x = 0; x < tileSize; x++)
            {
                r[o + x] = red[row[3 * x]];
                g[o + x] = green[row[3 * x + 1]];
                b[o + x] = blue[row[3 * x + 2]];
            }
        }
    }

    /// <summary>
    /// Same as the scalar loop: 8 pixels at a time are split into R, G, B bytes with two byte shuffles, widened to
    /// int32 and looked up in the same table with a gather, so the values are the table's bit for bit.
    /// </summary>
    unsafe void ToPlanarAvx2(ReadOnlySpan<byte> src, int srcWidth, int x0, int y0, int tileSize, Span<float> dst)
    {
        int plane = tileSize * tileSize;
        // Pixel bytes of 8 RGB pixels: a = bytes 0..15, b = bytes 8..23. Lanes of 0x80 produce zero.
        Vector128<byte> rgFromA = Vector128.Create((byte)0, 3, 6, 9, 12, 15, 0x80, 0x80, 1, 4, 7, 10, 13, 0x80, 0x80, 0x80);
        Vector128<byte> rgFromB = Vector128.Create((byte)0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 10, 13, 0x80, 0x80, 0x80, 0x80, 0x80, 8, 11, 14);
        Vector128<byte> bFromA = Vector128.Create((byte)2, 5, 8, 11, 14, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80);
        Vector128<byte> bFromB = Vector128.Create((byte)0x80, 0x80, 0x80, 0x80, 0x80, 9, 12, 15, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80);

        // SAFETY: src reads cover bytes [row + 3x, row + 3x + 24) with x + 8 ≤ tileSize, inside the window checked by
        // ToPlanar; dst writes are 8 floats at y·M + x (+ plane, + 2·plane) with x + 8 ≤ M, inside the (3, M, M)
        // destination checked by ToPlanar; gathers index the 256-entry tables with byte values.
        fixed (byte* srcBase = src)
        fixed (float* dstBase = dst)
        fixed (float* table = _table)
        {
            float* red = table, green = table + 256, blue = table + 512;
            for (int y = 0; y < tileSize; y++)
            {
                byte* row = srcBase + ((long)(y0 + y) * srcWidth + x0) * 3;
                float* r = dstBase + (long)y * tileSize, g = r + plane, b = g + plane;
                int x = 0;
                for (; x + 8 <= tileSize; x += 8)
                {
                    Vector128<byte> a = Sse2.LoadVector128(row + 3 * x), c = Sse2.LoadVector128(row + 3 * x + 8);
                    Vector128<byte> rg = Sse2.Or(Ssse3.Shuffle(a, rgFromA), Ssse3.Shuffle(c, rgFromB));
                    Vector128<byte> bb = Sse2.Or(Ssse3.Shuffle(a, bFromA), Ssse3.Shuffle(c, bFromB));
                    Avx.Store(r + x, Avx2.GatherVector256(red, Avx2.ConvertToVector256Int32(rg), 4));
                    Avx.Store(g + x, Avx2.GatherVector256(green, Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(rg, 8)), 4));
                    Avx.Store(b + x, Avx2.GatherVector256(blue, Avx2.ConvertToVector256Int32(bb), 4));
                }
                for (; x < tileSize; x++)
                {
                    r[x] = red[row[3 * x]];
                    g[x] = green[row[3 * x + 1]];
                    b[x] = blue[row[3 * x + 2]];
                }
            }
        }
    }
}
