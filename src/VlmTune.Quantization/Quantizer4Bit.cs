namespace VlmTune.Quantization;

/// <summary>
/// NF4 / FP4 blockwise quantisation with optional double quantisation, bit-exact with bitsandbytes' reference path
/// (see <see cref="FourBitReference"/> for the rules and <see cref="NestedQuant"/> for double quantisation).
///
/// Legend: N = elements (row-major flattening of shape, [out, in] for a Linear weight), bs = blocksize (power of two,
/// 32…4096, default 64), B = ceil(N / bs), B2 = ceil(B / 256).
/// Memory: N/2 bytes of codes + 4·B (plain) or B + 4·B2 + 4 bytes (double quant) — 4.5 or ≈4.127 bits per element.
///
/// Every <c>…Ref</c> method is the scalar oracle; the others are the fast path (Vector256 + Parallel.For over block
/// chunks for large tensors) and must produce identical bytes.
/// </summary>
public static class Quantizer4Bit
{
    /// <summary>Tensors with at least this many elements are quantised / dequantised on several threads.</summary>
    public const int ParallelThreshold = 1 << 18;

    /// <summary>Quantises f32 weights w: (N). shape defaults to [N]; its product must equal N.</summary>
    public static Quantized4Bit Quantize(ReadOnlySpan<float> w, int blocksize, QuantType type, bool doubleQuant,
        ReadOnlySpan<long> shape = default, int maxDegreeOfParallelism = -1)
        => QuantizeCore(w, blocksize, type, doubleQuant, shape, "float32", reference: false, maxDegreeOfParallelism);

    /// <summary>Quantises bf16 weights given as raw bits; each value is widened exactly to f32 (as torch promotes).</summary>
    public static Quantized4Bit QuantizeBf16(ReadOnlySpan<ushort> w, int blocksize, QuantType type, bool doubleQuant,
        ReadOnlySpan<long> shape = default, int maxDegreeOfParallelism = -1)
        => QuantizeCore(Widen(w), blocksize, type, doubleQuant, shape, "bfloat16", reference: false, maxDegreeOfParallelism);

    /// <summary>Scalar reference of <see cref="Quantize"/>.</summary>
    public static Quantized4Bit QuantizeRef(ReadOnlySpan<float> w, int blocksize, QuantType type, bool doubleQuant, ReadOnlySpan<long> shape = default)
        => QuantizeCore(w, blocksize, type, doubleQuant, shape, "float32", reference: true, 1);

    /// <summary>Scalar reference of <see cref="QuantizeBf16"/>.</summary>
    public static Quantized4Bit QuantizeRefBf16(ReadOnlySpan<ushort> w, int blocksize, QuantType type, bool doubleQuant, ReadOnlySpan<long> shape = default)
        => QuantizeCore(Widen(w), blocksize, type, doubleQuant, shape, "bfloat16", reference: true, 1);

    /// <summary>The f32 scale of every block: absmax, or code2[q]·absmax2 + offset when double-quantised. (B)</summary>
    public static float[] BlockScales(Quantized4Bit q)
    {
        q.Validate();
        return BlockScales(q, 0, q.BlockCount);
    }

    /// <summary>dst: (N) = code[nibble] · scale[block], f32.</summary>
    public static void Dequantize(Quantized4Bit q, Span<float> dst, int maxDegreeOfParallelism = -1)
    {
        long n = CheckDestination(q, dst.Length);
        if (n < ParallelThreshold || maxDegreeOfParallelism == 1)
        {
            DequantizeRange(q, 0, dst);
            return;
        }
        float[] scale = BlockScales(q, 0, q.BlockCount);
        int chunkBlocks = Math.Max(1, 65536 / q.Blocksize);
        int chunks = (q.BlockCount + chunkBlocks - 1) / chunkBlocks;
        unsafe
        {
            fixed (float* p = dst)
            {
                // SAFETY: dst is pinned for the duration of Parallel.For; each chunk writes a disjoint element range.
                float* basePtr = p;
                Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, c =>
                {
                    long start = (long)c * chunkBlocks * q.Blocksize;
                    int len = (int)Math.Min((long)chunkBlocks * q.Blocksize, n - start);
                    var part = new Span<float>(basePtr + start, len);
                    FourBitKernels.DequantizeRange(q.Packed, scale, 0, q.Blocksize, q.QuantType, start, part);
                });
            }
        }
    }

    /// <summary>Scalar reference of <see cref="Dequantize"/>.</summary>
    public static void DequantizeRef(Quantized4Bit q, Span<float> dst)
    {
        CheckDestination(q, dst.Length);
        float[] scale = new float[q.BlockCount];
        if (q.DoubleQuant)
        {
            for (int b = 0; b < scale.Length; b++)
                scale[b] = q.NestedCode![q.QuantizedAbsmax![b]] * q.NestedAbsmax![b / NestedQuant.Blocksize] + q.Offset;
        }
        else
        {
            q.Absmax!.CopyTo(scale, 0);
        }
        FourBitReference.Dequantize(q.Packed, scale, q.Blocksize, q.QuantType, dst);
    }

    /// <summary>
    /// Dequantises elements [start, start + dst.Length) of the flattened tensor (any alignment). Only the block
    /// scales the range touches are expanded, so this is the tile primitive for a dequantise-inside-GEMM loop.
    /// </summary>
    public static void DequantizeRange(Quantized4Bit q, long start, Span<float> dst)
    {
        q.Validate();
        if (start < 0 || start + dst.Length > q.Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"range [{start}, {start + dst.Length}) is outside the {q.Count} elements");
        if (dst.Length == 0) return;
        int firstBlock = (int)(start / q.Blocksize);
        int lastBlock = (int)((start + dst.Length - 1) / q.Blocksize);
        float[] scale = BlockScales(q, firstBlock, lastBlock - firstBlock + 1);
        FourBitKernels.DequantizeRange(q.Packed, scale, firstBlock, q.Blocksize, q.QuantType, start, dst);
    }

    /// <summary>
    /// Rows [rowStart, rowStart + rowCount) of a 2-D [out, in] weight into dst: (rowCount, in).
    /// Blocks run over the flattened tensor, so rows r0…r1 cover elements [r0·in, (r1+1)·in) and blocks
    /// ⌊r0·in/bs⌋ … ⌊((r1+1)·in − 1)/bs⌋. When in % bs != 0 a block straddles two rows: its scale is shared by the
    /// tail of one row and the head of the next, and the first / last block of a tile may be used only in part.
    /// When in % bs == 0 (every SmolVLM linear at bs 64) each row owns in/bs whole blocks.
    /// </summary>
    public static void DequantizeRows(Quantized4Bit q, int rowStart, int rowCount, Span<float> dst)
    {
        if (q.Shape.Length != 2)
            throw new QuantizationFormatException($"DequantizeRows needs a 2-D [out, in] weight, got shape [{string.Join(", ", q.Shape)}]");
        long rows = q.Shape[0], cols = q.Shape[1];
        if (rowStart < 0 || rowCount < 0 || rowStart + (long)rowCount > rows)
            throw new ArgumentOutOfRangeException(nameof(rowStart), $"rows [{rowStart}, {rowStart + (long)rowCount}) are outside the {rows} rows");
        if (dst.Length != rowCount * cols)
            throw new ArgumentException($"dst has {dst.Length} elements, rows × in = {rowCount} × {cols} = {rowCount * cols}", nameof(dst));
        DequantizeRange(q, rowStart * cols, dst);
    }

    /// <summary>Dequantises to bf16 bits: f32 result rounded to nearest even, as torch's .to(bfloat16).</summary>
    public static void DequantizeBf16(Quantized4Bit q, Span<ushort> dst)
    {
        CheckDestination(q, dst.Length);
        var f32 = new float[dst.Length];
        Dequantize(q, f32);
        for (int i = 0; i < f32.Length; i++) dst[i] = BlockMath.SingleToBf16(f32[i]);
    }

    private static Quantized4Bit QuantizeCore(ReadOnlySpan<float> w, int blocksize, QuantType type, bool doubleQuant,
        ReadOnlySpan<long> shape, string dtype, bool reference, int maxDegreeOfParallelism)
    {
        BlockMath.CheckBlocksize(blocksize, "Quantize");
        long[] shapeArray = shape.IsEmpty ? [w.Length] : shape.ToArray();
        if (BlockMath.Product(shapeArray) != w.Length)
            throw new QuantizationFormatException($"Quantize: shape [{string.Join(", ", shapeArray)}] has {BlockMath.Product(shapeArray)} elements but {w.Length} values were given");
        int n = w.Length;
        int blocks = (n + blocksize - 1) / blocksize;
        var packed = new byte[(n + 1) / 2];
        var absmax = new float[blocks];
        if (reference)
            FourBitReference.Quantize(w, blocksize, type, packed, absmax);
        else
            QuantizeFast(w, blocksize, type, packed, absmax, maxDegreeOfParallelism);

        if (!doubleQuant)
            return new Quantized4Bit { Packed = packed, Absmax = absmax, Shape = shapeArray, Blocksize = blocksize, QuantType = type, Dtype = dtype };

        float offset = NestedQuant.Offset(absmax);
        var centred = new float[blocks];
        for (int b = 0; b < blocks; b++) centred[b] = absmax[b] - offset;
        var codes = new byte[blocks];
        var absmax2 = new float[(blocks + NestedQuant.Blocksize - 1) / NestedQuant.Blocksize];
        if (reference) NestedQuant.QuantizeRef(centred, QuantTables.DynamicSigned, codes, absmax2);
        else NestedQuant.Quantize(centred, QuantTables.DynamicSigned, codes, absmax2);
        return new Quantized4Bit
        {
            Packed = packed, QuantizedAbsmax = codes, NestedAbsmax = absmax2, Offset = offset,
            NestedCode = QuantTables.DynamicSignedCopy(), Shape = shapeArray, Blocksize = blocksize, QuantType = type, Dtype = dtype,
        };
    }

    private static void QuantizeFast(ReadOnlySpan<float> w, int blocksize, QuantType type, byte[] packed, float[] absmax, int maxDegreeOfParallelism)
    {
        int blocks = absmax.Length;
        if (w.Length < ParallelThreshold || maxDegreeOfParallelism == 1)
        {
            FourBitKernels.QuantizeBlocks(w, blocksize, type, 0, blocks, packed, absmax);
            return;
        }
        int chunkBlocks = Math.Max(1, 65536 / blocksize);
        int chunks = (blocks + chunkBlocks - 1) / chunkBlocks;
        int n = w.Length;
        unsafe
        {
            fixed (float* p = w)
            {
                // SAFETY: w is pinned for the duration of Parallel.For and only read; each chunk writes whole,
                // disjoint blocks of packed / absmax (block starts are even because blocksize is a power of two ≥ 32).
                float* basePtr = p;
                Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, c =>
                {
                    int first = c * chunkBlocks;
                    int count = Math.Min(chunkBlocks, blocks - first);
                    var all = new ReadOnlySpan<float>(basePtr, n);
                    FourBitKernels.QuantizeBlocks(all, blocksize, type, first, count, packed, absmax);
                });
            }
        }
    }

    private static float[] BlockScales(Quantized4Bit q, int firstBlock, int count)
    {
        var scale = new float[count];
        if (q.DoubleQuant)
            NestedQuant.Dequantize(q.QuantizedAbsmax, q.NestedAbsmax, q.NestedCode, q.Offset, firstBlock, scale);
        else
            q.Absmax.AsSpan(firstBlock, count).CopyTo(scale);
        return scale;
    }

    private static long CheckDestination(Quantized4Bit q, int length)
    {
        q.Validate();
        long n = q.Count;
        if (length != n)
            throw new ArgumentException($"destination has {length} elements, the quantised tensor has {n} (shape [{string.Join(", ", q.Shape)}])");
        return n;
    }

    private static float[] Widen(ReadOnlySpan<ushort> bf16)
    {
        var f32 = new float[bf16.Length];
        for (int i = 0; i < bf16.Length; i++) f32[i] = BlockMath.Bf16ToSingle(bf16[i]);
        return f32;
    }
}
