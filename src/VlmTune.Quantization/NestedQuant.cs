namespace VlmTune.Quantization;

/// <summary>
/// Double quantisation of the 4-bit block scales (bitsandbytes functional.quantize_4bit, compress_statistics=True):
///   offset = mean(absmax);  (qabsmax, absmax2) = quantize_blockwise(absmax − offset, dynamic map, blocksize 256);
///   dequantise: absmax[b] = code2[qabsmax[b]] · absmax2[b / 256] + offset   (f32 multiply, then f32 add).
/// The 8-bit step follows backends/default/ops.py quantize_blockwise: per 256-block absmax2 = max |a|,
/// s = clamp(a · fl(1/absmax2), −1, 1) (partial block too), code = argmin |s − code2[i]| (first index on ties).
/// Legend: B = 4-bit blocks, B2 = ceil(B / 256).
/// </summary>
internal static class NestedQuant
{
    public const int Blocksize = Quantized4Bit.NestedBlocksize;

    /// <summary>
    /// mean(absmax) as an f32. Summed in f64 and rounded once; torch sums f32 in a machine-dependent cascade, so the
    /// last bit may differ from bitsandbytes (spec errata §6: "allow one ulp").
    /// </summary>
    public static float Offset(ReadOnlySpan<float> absmax)
    {
        if (absmax.Length == 0) return 0f;
        double sum = 0;
        foreach (float a in absmax) sum += a;
        return (float)(sum / absmax.Length);
    }

    /// <summary>Reference: a: (B) values absmax − offset → codes: (B), absmax2: (B2). Full argmin over 256 codes.</summary>
    public static void QuantizeRef(ReadOnlySpan<float> a, ReadOnlySpan<float> code, byte[] codes, float[] absmax2)
    {
        for (int nb = 0; nb < absmax2.Length; nb++)
        {
            int start = nb * Blocksize;
            int len = Math.Min(Blocksize, a.Length - start);
            float max = 0f;
            for (int i = 0; i < len; i++) max = MathF.Max(max, MathF.Abs(a[start + i]));
            absmax2[nb] = max;
            float reciprocal = 1f / max;
            for (int i = 0; i < len; i++)
            {
                float s = max == 0f ? 0f : Math.Clamp(a[start + i] * reciprocal, -1f, 1f);
                int best = 0;
                float bestDiff = MathF.Abs(s - code[0]);
                for (int c = 1; c < code.Length; c++)
                {
                    float diff = MathF.Abs(s - code[c]);
                    if (diff < bestDiff) { best = c; bestDiff = diff; }
                }
                codes[start + i] = (byte)best;
            }
        }
    }

    /// <summary>Fast: binary search for the bracketing pair of the sorted map, then the nearer one (lower on ties).</summary>
    public static void Quantize(ReadOnlySpan<float> a, ReadOnlySpan<float> code, byte[] codes, float[] absmax2)
    {
        for (int nb = 0; nb < absmax2.Length; nb++)
        {
            int start = nb * Blocksize;
            int len = Math.Min(Blocksize, a.Length - start);
            float max = 0f;
            for (int i = 0; i < len; i++) max = MathF.Max(max, MathF.Abs(a[start + i]));
            absmax2[nb] = max;
            float reciprocal = 1f / max;
            for (int i = 0; i < len; i++)
            {
                float s = max == 0f ? 0f : Math.Clamp(a[start + i] * reciprocal, -1f, 1f);
                codes[start + i] = NearestSorted(code, s);
            }
        }
    }

    /// <summary>Expands the nested state into the f32 block scales: scale: (B).</summary>
    public static void Dequantize(ReadOnlySpan<byte> codes, ReadOnlySpan<float> absmax2, ReadOnlySpan<float> code, float offset, int firstBlock, Span<float> scale)
    {
        for (int i = 0; i < scale.Length; i++)
        {
            int b = firstBlock + i;
            float v = code[codes[b]] * absmax2[b / Blocksize];
            scale[i] = v + offset;
        }
    }

    private static byte NearestSorted(ReadOnlySpan<float> code, float s)
    {
        // largest lo with code[lo] <= s (code[0] = -0.99296875 may exceed s = -1)
        int lo = 0, hi = code.Length - 1;
        if (s <= code[0]) return 0;
        if (s >= code[hi]) return (byte)hi;
        while (hi - lo > 1)
        {
            int mid = (lo + hi) >> 1;
            if (code[mid] <= s) lo = mid; else hi = mid;
        }
        float dLo = MathF.Abs(s - code[lo]);
        float dHi = MathF.Abs(s - code[hi]);
        return (byte)(dHi < dLo ? hi : lo);
    }
}
