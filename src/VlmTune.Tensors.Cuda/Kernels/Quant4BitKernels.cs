using ILGPU;
using ILGPU.Runtime.Cuda;

namespace VlmTune.Tensors.Cuda.Kernels;

/// <summary>
/// A 4-bit weight as kernels see it (bitsandbytes layout, see Packed4BitWeight). Legend: N = out·in elements (row-major
/// flattening), bs = 2^BlockShift, B = ⌈N/bs⌉ blocks, B2 = ⌈B/256⌉. Views that the weight does not have (Absmax when
/// double-quantised, QAbsmax/Nested/NestedCode when not) point at a small dummy buffer and are never read.
/// </summary>
public struct Q4View
{
    /// <summary>u8 (⌈N/2⌉): element 2j in the high nibble of byte j, 2j+1 in the low one.</summary>
    public ArrayView<byte> Packed;
    /// <summary>f32 (B).</summary>
    public ArrayView<float> Absmax;
    /// <summary>u8 (B) codes into NestedCode.</summary>
    public ArrayView<byte> QAbsmax;
    /// <summary>f32 (B2).</summary>
    public ArrayView<float> Nested;
    /// <summary>f32 (16).</summary>
    public ArrayView<float> Code;
    /// <summary>f32 (256).</summary>
    public ArrayView<float> NestedCode;
    public float Offset;
    public int BlockShift;
    public int DoubleQuant;
    /// <summary>KTensor.F32, BF16 or F16: the dtype each dequantised value is rounded to (Packed4BitWeight.ValueDType).</summary>
    public int ValueKind;
}

/// <summary>
/// Quant4Bit family: dequantise (into the GEMM scratch or a destination) and quantise on the device, bit-identical to
/// VlmTune.Quantization (Quantizer4Bit: FourBitReference / FourBitKernels / NestedQuant / CodeSearch) and to the CPU
/// backend's DequantizeRows. Every float operation that decides bits is a single IEEE-rounded PTX instruction
/// (mul.rn / add.rn / sub.rn / div.rn, no fma, no approximate division): the PTX test checks this.
/// </summary>
public static class Quant4BitKernels
{
    /// <summary>
    /// dst[dst.Offset + (e − start)] = code[nibble(e)] · scale[e / bs] for e in [start, start + count), count ≥ 1;
    /// dst is contiguous f32 or bf16 (round to nearest even). scale = absmax[b], or nested_code[q[b]] · nested[b/256]
    /// + offset (product rounded, then the sum rounded); the product is then rounded to w.ValueKind (bf16/f16, nearest
    /// even) as bitsandbytes' dequantize_4bit does. One thread per packed byte (two elements), grid-stride.
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit, NoSpill = true)]
    public static void Dequantize(Q4View w, long start, long count, KTensor dst)
    {
        long first = start >> 1, last = (start + count - 1) >> 1, end = start + count;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long j = first + Grid.GlobalIndex.X; j <= last; j += stride)
        {
            long e = j << 1;
            float s = Scale(w, e >> w.BlockShift);
            int pair = w.Packed[j];
            if (e >= start) dst.Store(dst.Offset + (e - start), RoundValue(w.ValueKind, KMath.MulRn(w.Code[pair >> 4], s)));
            if (e + 1 < end) dst.Store(dst.Offset + (e + 1 - start), RoundValue(w.ValueKind, KMath.MulRn(w.Code[pair & 0xF], s)));
        }
    }

    /// <summary>v rounded to bf16 or f16 (nearest even) and widened back; f32 unchanged.</summary>
    static float RoundValue(int kind, float v) =>
        kind == KTensor.BF16 ? Num.Bf16ToFloat(Num.FloatToBf16(v)) : kind == KTensor.F16 ? Num.HalfToFloat(Num.FloatToHalf(v)) : v;

    /// <summary>The f32 scale of block b.</summary>
    static float Scale(in Q4View w, long b)
    {
        if (w.DoubleQuant == 0) return w.Absmax[b];
        float v = KMath.MulRn(w.NestedCode[(int)w.QAbsmax[b]], w.Nested[b >> 8]);
        return KMath.AddRn(v, w.Offset);
    }

    /// <summary>
    /// y[n, r0 + j] = (accumulate ? y[n, r0 + j] : 0) + t[n, j] for t: (N, rows) contiguous, y: (N, outF) contiguous
    /// (a tile of the forward product written into its columns of y).
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void ScatterColumns(KTensor t, KTensor y, int outF, int r0, int rows, int accumulate)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < t.Numel; i += stride)
        {
            long n = i / rows, c = i - n * rows;
            long ye = y.Offset + n * outF + r0 + c;
            float v = t.Load(t.Offset + i);
            if (accumulate != 0) v = KMath.AddRn(y.Load(ye), v);
            y.Store(ye, v);
        }
    }

    // ---- quantisation (bf16/f32/f16 weight → packed codes + block absmax) ----

    /// <summary>
    /// One warp per block of x (contiguous, N elements): absmax = max |x|; full block: s = x · fl(1/absmax) (0 when
    /// absmax = 0), partial block: s = x / max(absmax, 1e-38); s clamped to [−1, 1] (NaN passes, as Math.Clamp);
    /// code = sortedToCode[#midpoints strictly below s]; packed high nibble first, an odd N padded with zeroCode.
    /// The smallest element index holding a non-finite value is atomically min'ed into bad[0].
    /// mids: (midCount) sorted f32 midpoints of the distinct code values; sortedToCode: (midCount + 1).
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void QuantizeBlocks(KTensor x, int blocksize, ArrayView<float> mids, int midCount, ArrayView<byte> sortedToCode,
        int zeroCode, ArrayView<byte> packed, ArrayView<float> absmax, ArrayView<long> bad)
    {
        int ws = Warp.WarpSize, lane = Warp.LaneIdx;
        long warps = (long)Grid.DimX * Group.DimX / ws;
        long n = x.Numel;
        long blocks = (n + blocksize - 1) / blocksize;
        for (long b = Grid.GlobalIndex.X / ws; b < blocks; b += warps)
        {
            long start = b * blocksize;
            int len = (int)IntrinsicMath.Min(blocksize, n - start);
            float max = 0f;
            for (int i = lane; i < len; i += ws)
            {
                float v = x.Load(x.Offset + start + i);
                if (!IsFinite(v)) Atomic.Min(ref bad[0], start + i);
                max = IntrinsicMath.Max(max, IntrinsicMath.Abs(v));
            }
            for (int o = ws >> 1; o > 0; o >>= 1) max = IntrinsicMath.Max(max, Warp.ShuffleXor(max, o));
            if (lane == 0) absmax[b] = max;
            bool full = len == blocksize;
            float reciprocal = DivRn(1f, max);
            float divisor = IntrinsicMath.Max(max, 1e-38f);
            for (int p = lane; 2 * p < len; p += ws)
            {
                long e = start + 2 * p;
                int hi = NearestCode(ScaleForCode(x.Load(x.Offset + e), full, max, reciprocal, divisor), mids, midCount, sortedToCode);
                int lo = zeroCode;
                if (2 * p + 1 < len)
                    lo = NearestCode(ScaleForCode(x.Load(x.Offset + e + 1), full, max, reciprocal, divisor), mids, midCount, sortedToCode);
                packed[e >> 1] = (byte)((hi << 4) | lo);
            }
        }
    }

    static float ScaleForCode(float v, bool full, float max, float reciprocal, float divisor)
    {
        float s = full ? (max == 0f ? 0f : KMath.MulRn(v, reciprocal)) : DivRn(v, divisor);
        return ClampUnit(s);
    }

    static int NearestCode(float s, ArrayView<float> mids, int midCount, ArrayView<byte> sortedToCode)
    {
        int below = 0;
        for (int k = 0; k < midCount; k++)
            if (mids[k] < s) below++;
        return sortedToCode[below];
    }

    /// <summary>
    /// offset[0] = (f32)(Σ absmax[b] in f64, in index order / B) — NestedQuant.Offset's exact sequence of roundings.
    /// One group: the group stages chunks of absmax in shared memory, thread 0 sums them in order.
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void MeanOffset(ArrayView<float> absmax, int blocks, ArrayView<float> offset)
    {
        var tile = SharedMemory.Allocate<float>(1024);
        double sum = 0;
        for (int c0 = 0; c0 < blocks; c0 += 1024)
        {
            int len = IntrinsicMath.Min(1024, blocks - c0);
            if (Grid.IdxX == 0)
                for (int i = Group.IdxX; i < len; i += Group.DimX) tile[i] = absmax[c0 + i];
            Group.Barrier();
            if (Grid.IdxX == 0 && Group.IdxX == 0)
                for (int i = 0; i < len; i++) sum = AddRn(sum, tile[i]);
            Group.Barrier();
        }
        if (Grid.IdxX == 0 && Group.IdxX == 0) offset[0] = blocks == 0 ? 0f : (float)DivRn(sum, blocks);
    }

    /// <summary>
    /// Double quantisation, one warp per 256-block of a = absmax − offset: absmax2 = max |a|; s = 0 when absmax2 = 0,
    /// else clamp(a · fl(1/absmax2), −1, 1); q = nearest entry of the sorted map (binary search, lower index on ties) —
    /// NestedQuant.Quantize. map: (mapLen) ascending.
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void NestedQuantize(ArrayView<float> absmax, int blocks, float offset, ArrayView<float> map, int mapLen,
        ArrayView<byte> qabsmax, ArrayView<float> nested)
    {
        int ws = Warp.WarpSize, lane = Warp.LaneIdx;
        long warps = (long)Grid.DimX * Group.DimX / ws;
        int groups = (blocks + 255) / 256;
        for (long g = Grid.GlobalIndex.X / ws; g < groups; g += warps)
        {
            int start = (int)g * 256;
            int len = IntrinsicMath.Min(256, blocks - start);
            float max = 0f;
            for (int i = lane; i < len; i += ws) max = IntrinsicMath.Max(max, IntrinsicMath.Abs(SubRn(absmax[start + i], offset)));
            for (int o = ws >> 1; o > 0; o >>= 1) max = IntrinsicMath.Max(max, Warp.ShuffleXor(max, o));
            if (lane == 0) nested[g] = max;
            float reciprocal = DivRn(1f, max);
            for (int i = lane; i < len; i += ws)
            {
                float s = max == 0f ? 0f : ClampUnit(KMath.MulRn(SubRn(absmax[start + i], offset), reciprocal));
                qabsmax[start + i] = (byte)NearestSorted(map, mapLen, s);
            }
        }
    }

    static int NearestSorted(ArrayView<float> map, int mapLen, float s)
    {
        int lo = 0, hi = mapLen - 1;
        if (s <= map[0]) return 0;
        if (s >= map[hi]) return hi;
        while (hi - lo > 1)
        {
            int mid = (lo + hi) >> 1;
            if (map[mid] <= s) lo = mid; else hi = mid;
        }
        float dLo = IntrinsicMath.Abs(SubRn(s, map[lo]));
        float dHi = IntrinsicMath.Abs(SubRn(s, map[hi]));
        return dHi < dLo ? hi : lo;
    }

    // ---- exact scalar helpers ----

    /// <summary>Math.Clamp(s, −1, 1): NaN stays NaN (PTX min/max would turn it into a bound).</summary>
    static float ClampUnit(float s)
    {
        if (s < -1f) return -1f;
        if (s > 1f) return 1f;
        return s;
    }

    static bool IsFinite(float v) => (Interop.FloatAsInt(v) & 0x7F800000u) != 0x7F800000u;

    // ILGPU emits f32 mul/add/sub (and f64 add) without a rounding modifier, which lets ptxas contract a mul feeding an
    // add into one fma (seen: the nested scale code2·absmax2 + offset became FFMA). Explicit .rn forbids contraction
    // (KMath.MulRn/AddRn, SubRn and the f64 AddRn below); on the simulated accelerator the C# operators are the same IEEE operations.

    static float SubRn(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("sub.rn.f32 %0, %1, %2;", out float r, a, b);
            return r;
        }
        return a - b;
    }

    /// <summary>IEEE division (ILGPU emits div.rn.f32 / rcp.rn.f32 for it: the PTX test checks).</summary>
    static float DivRn(float a, float b) => a / b;

    static double AddRn(double a, double b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("add.rn.f64 %0, %1, %2;", out double r, a, b);
            return r;
        }
        return a + b;
    }

    static double DivRn(double a, double b) => a / b;
}
