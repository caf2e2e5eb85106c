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

    public PixelNormalizer(ImageProcessorConfig config)
    {
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
}
