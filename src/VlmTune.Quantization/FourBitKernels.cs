using System.Runtime.Intrinsics;

namespace VlmTune.Quantization;

/// <summary>
/// Fast 4-bit quantise / dequantise over a range of blocks; parity-tested against <see cref="FourBitReference"/>.
/// Legend: N = elements, bs = block size (a power of two ≥ 32, so every block starts on an even element and owns
/// whole packed bytes), B = blocks. Full blocks use Vector256 (8 lanes): absmax via MaxNative, code search by counting
/// the midpoints below each lane; the at most one trailing partial block runs the scalar reference rules.
/// </summary>
internal static class FourBitKernels
{
    /// <summary>Quantises blocks [firstBlock, firstBlock+blockCount) of x: (N) into packed and absmax.</summary>
    public static void QuantizeBlocks(ReadOnlySpan<float> x, int blocksize, QuantType type, int firstBlock, int blockCount, Span<byte> packed, Span<float> absmax)
    {
        CodeSearch search = CodeSearch.For(type);
        Span<byte> codes = stackalloc byte[8];
        for (int b = firstBlock; b < firstBlock + blockCount; b++)
        {
            int start = b * blocksize;
            int len = Math.Min(blocksize, x.Length - start);
            ReadOnlySpan<float> block = x.Slice(start, len);
            if (len == blocksize && Vector256.IsHardwareAccelerated)
                absmax[b] = QuantizeFullBlock(block, search, packed.Slice(start >> 1, blocksize >> 1), b, start, codes);
            else
                absmax[b] = QuantizeBlockScalar(block, len == blocksize, type, search, packed, start, b);
        }
    }

    private static float QuantizeFullBlock(ReadOnlySpan<float> block, CodeSearch search, Span<byte> outBytes, int b, int start, Span<byte> codes)
    {
        var maxV = Vector256<float>.Zero;
        var finite = Vector256<float>.AllBitsSet;
        var largest = Vector256.Create(float.MaxValue);
        for (int i = 0; i < block.Length; i += 8)
        {
            var abs = Vector256.Abs(Vector256.Create(block.Slice(i, 8)));
            maxV = Vector256.MaxNative(maxV, abs);
            finite &= Vector256.LessThanOrEqual(abs, largest);   // false for NaN and ±inf
        }
        if (finite.AsUInt32() != Vector256<uint>.AllBitsSet) ThrowNonFinite(block, b, start);
        float max = 0f;
        for (int l = 0; l < 8; l++) max = MathF.Max(max, maxV.GetElement(l));

        float reciprocal = 1f / max;
        var r = Vector256.Create(max == 0f ? 0f : reciprocal);
        var one = Vector256.Create(1f);
        var minusOne = Vector256.Create(-1f);
        float[] mids = search.Midpoints;
        byte[] map = search.SortedToCode;
        for (int i = 0; i < block.Length; i += 8)
        {
            var s = Vector256.Min(Vector256.Max(Vector256.Create(block.Slice(i, 8)) * r, minusOne), one);
            var below = Vector256<int>.Zero;
            for (int j = 0; j < mids.Length; j++)
                below -= Vector256.LessThan(Vector256.Create(mids[j]), s).AsInt32();   // true lanes are −1
            for (int l = 0; l < 8; l++) codes[l] = map[below.GetElement(l)];
            int o = i >> 1;
            outBytes[o] = (byte)((codes[0] << 4) | codes[1]);
            outBytes[o + 1] = (byte)((codes[2] << 4) | codes[3]);
            outBytes[o + 2] = (byte)((codes[4] << 4) | codes[5]);
            outBytes[o + 3] = (byte)((codes[6] << 4) | codes[7]);
        }
        return max;
    }

    private static float QuantizeBlockScalar(ReadOnlySpan<float> block, bool full, QuantType type, CodeSearch search, Span<byte> packed, int start, int b)
    {
        float max = 0f;
        for (int i = 0; i < block.Length; i++)
        {
            if (!float.IsFinite(block[i])) ThrowNonFinite(block, b, start);
            max = MathF.Max(max, MathF.Abs(block[i]));
        }
        float reciprocal = 1f / max;
        float divisor = MathF.Max(max, 1e-38f);
        byte zero = QuantTables.ZeroCode(type);
        for (int i = 0; i < block.Length; i += 2)
        {
            byte hi = search.NearestRef(Scale(block[i]));
            byte lo = i + 1 < block.Length ? search.NearestRef(Scale(block[i + 1])) : zero;
            packed[(start + i) >> 1] = (byte)((hi << 4) | lo);
        }
        return max;

        float Scale(float v) => Math.Clamp(full ? (max == 0f ? 0f : v * reciprocal) : v / divisor, -1f, 1f);
    }

    /// <summary>
    /// dst[k] = code[nibble(start+k)] · scale[(start+k)/bs − firstBlock] for k in [0, dst.Length).
    /// scale: the f32 scales of blocks firstBlock … covering the range.
    /// </summary>
    public static void DequantizeRange(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scale, int firstBlock, int blocksize, QuantType type, long start, Span<float> dst)
    {
        ReadOnlySpan<float> code = QuantTables.For(type);
        long end = start + dst.Length;
        long i = start;
        while (i < end)
        {
            long block = i / blocksize;
            long blockEnd = Math.Min(end, (block + 1) * blocksize);
            float s = scale[(int)(block - firstBlock)];
            int k = (int)(i - start);
            if ((i & 1) == 1)
            {
                dst[k++] = code[packed[(int)(i >> 1)] & 0xF] * s;
                i++;
            }
            long pairs = (blockEnd - i) >> 1;
            int p = (int)(i >> 1);
            for (long j = 0; j < pairs; j++, p++, k += 2)
            {
                byte v = packed[p];
                dst[k] = code[v >> 4] * s;
                dst[k + 1] = code[v & 0xF] * s;
            }
            i += 2 * pairs;
            if (i < blockEnd)
            {
                dst[k] = code[packed[(int)(i >> 1)] >> 4] * s;
                i++;
            }
        }
    }

    private static void ThrowNonFinite(ReadOnlySpan<float> block, int b, int start)
    {
        for (int i = 0; i < block.Length; i++)
            if (!float.IsFinite(block[i]))
                throw new QuantizationFormatException($"cannot quantise non-finite value {block[i]} at element {start + i} (block {b})");
        throw new QuantizationFormatException($"cannot quantise block {b}: non-finite value");
    }
}
