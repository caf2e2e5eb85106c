namespace VlmTune.Quantization;

/// <summary>
/// Scalar, obviously-correct 4-bit quantise / dequantise: the oracle the fast path is tested against.
/// Legend: N = elements, bs = block size, B = ceil(N / bs).
///
/// Per block (bitsandbytes backends/default/ops.py quantize_4bit, with the spec errata):
///   absmax = max |x| (f32);
///   full block:    s = clamp(x · fl(1/absmax), −1, 1)   (multiplied by the f32 reciprocal, not divided);
///   partial block: s = clamp(x / max(absmax, 1e-38), −1, 1);
///   code = nearest by midpoints (CodeSearch).
/// An all-zero full block keeps absmax 0 and every element takes the code of 0.0 (torch would compute 0·inf = NaN).
/// Non-finite input is rejected with the element offset.
/// </summary>
internal static class FourBitReference
{
    /// <summary>x: (N) → packed: ((N+1)/2), absmax: (B).</summary>
    public static void Quantize(ReadOnlySpan<float> x, int blocksize, QuantType type, byte[] packed, float[] absmax)
    {
        CodeSearch search = CodeSearch.For(type);
        int n = x.Length;
        var codes = new byte[n + (n & 1)];
        if ((n & 1) == 1) codes[n] = QuantTables.ZeroCode(type);
        for (int b = 0; b < absmax.Length; b++)
        {
            int start = b * blocksize;
            int len = Math.Min(blocksize, n - start);
            ReadOnlySpan<float> block = x.Slice(start, len);
            float max = 0f;
            for (int i = 0; i < len; i++)
            {
                if (!float.IsFinite(block[i]))
                    throw new QuantizationFormatException($"cannot quantise non-finite value {block[i]} at element {start + i} (block {b})");
                max = MathF.Max(max, MathF.Abs(block[i]));
            }
            absmax[b] = max;
            bool full = len == blocksize;
            float reciprocal = 1f / max;
            float divisor = MathF.Max(max, 1e-38f);
            for (int i = 0; i < len; i++)
            {
                float s = full ? (max == 0f ? 0f : block[i] * reciprocal) : block[i] / divisor;
                s = Math.Clamp(s, -1f, 1f);
                codes[start + i] = search.NearestRef(s);
            }
        }
        for (int j = 0; j < packed.Length; j++) packed[j] = (byte)((codes[2 * j] << 4) | codes[2 * j + 1]);
    }

    /// <summary>w[i] = code[nibble(i)] · scale[i / bs]; scale: (B) already expanded from the nested state.</summary>
    public static void Dequantize(byte[] packed, ReadOnlySpan<float> scale, int blocksize, QuantType type, Span<float> dst)
    {
        ReadOnlySpan<float> code = QuantTables.For(type);
        for (int i = 0; i < dst.Length; i++)
        {
            byte pair = packed[i >> 1];
            int nibble = (i & 1) == 0 ? pair >> 4 : pair & 0xF;
            dst[i] = code[nibble] * scale[i / blocksize];
        }
    }
}
