using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

/// <summary>
/// One batched GEMM for <see cref="GemmKernels.Gemm"/>: element (b, i, k) of op(A) is at
/// <c>AOffset + b·ABatch + i·ARow + k·ACol</c> of A's storage, element (b, k, j) of op(B) at
/// <c>BOffset + b·BBatch + k·BRow + j·BCol</c>, element (b, i, j) of C at <c>COffset + b·CBatch + i·CRow + j</c>
/// (element indices of the operand's own dtype; a batch stride of 0 broadcasts). Transposes are folded into the
/// row/column strides by the host.
/// </summary>
public struct GemmParams
{
    public ArrayView<byte> A, B, C;
    public long AOffset, ABatch, ARow, ACol;
    public long BOffset, BBatch, BRow, BCol;
    public long COffset, CBatch, CRow;
    public int M, N, K, Batch;
    /// <summary>KTensor dtype codes (F32, BF16, F16).</summary>
    public int AType, BType, CType;
    public float Alpha;
    /// <summary>1: C += alpha·AB; 0: C = alpha·AB (C is not read).</summary>
    public int Accumulate;
}

// MatMul family: the simulator's stand-in for cuBLAS (the GPU uses cuBLAS; this kernel also compiles to PTX).
public static class GemmKernels
{
    /// <summary>Rows and columns of C that one thread computes.</summary>
    public const int Tile = 4;

    /// <summary>
    /// Register-tiled GEMM without shared memory or barriers: each thread owns a 4×4 tile of C (16 f32 accumulators),
    /// walks K loading 4 values of op(A)'s column and 4 of op(B)'s row per step, and grid-strides over the tiles of all
    /// batches. Edge tiles clamp their row/column indices for the loads (no branches in the K loop) and skip the
    /// out-of-range stores. Loads widen bf16/f16 exactly; stores round to nearest even.
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit, NoSpill = true)]
    public static void Gemm(GemmParams p)
    {
        int tilesM = (p.M + Tile - 1) / Tile, tilesN = (p.N + Tile - 1) / Tile;
        long perBatch = (long)tilesM * tilesN;
        long total = perBatch * p.Batch;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long t = Grid.GlobalIndex.X; t < total; t += stride)
        {
            long bi = t / perBatch;
            long r = t - bi * perBatch;
            int tm = (int)(r / tilesN);
            int tn = (int)(r - (long)tm * tilesN);
            int i0 = tm * Tile, j0 = tn * Tile;
            int lastM = p.M - 1, lastN = p.N - 1;

            long a0 = p.AOffset + bi * p.ABatch + (long)i0 * p.ARow;
            long a1 = p.AOffset + bi * p.ABatch + (long)Math.Min(i0 + 1, lastM) * p.ARow;
            long a2 = p.AOffset + bi * p.ABatch + (long)Math.Min(i0 + 2, lastM) * p.ARow;
            long a3 = p.AOffset + bi * p.ABatch + (long)Math.Min(i0 + 3, lastM) * p.ARow;
            long b0 = p.BOffset + bi * p.BBatch + (long)j0 * p.BCol;
            long b1 = p.BOffset + bi * p.BBatch + (long)Math.Min(j0 + 1, lastN) * p.BCol;
            long b2 = p.BOffset + bi * p.BBatch + (long)Math.Min(j0 + 2, lastN) * p.BCol;
            long b3 = p.BOffset + bi * p.BBatch + (long)Math.Min(j0 + 3, lastN) * p.BCol;

            float c00 = 0, c01 = 0, c02 = 0, c03 = 0;
            float c10 = 0, c11 = 0, c12 = 0, c13 = 0;
            float c20 = 0, c21 = 0, c22 = 0, c23 = 0;
            float c30 = 0, c31 = 0, c32 = 0, c33 = 0;
            for (int k = 0; k < p.K; k++)
            {
                long ak = k * p.ACol, bk = k * p.BRow;
                float x0 = Load(p.A, p.AType, a0 + ak), x1 = Load(p.A, p.AType, a1 + ak);
                float x2 = Load(p.A, p.AType, a2 + ak), x3 = Load(p.A, p.AType, a3 + ak);
                float y0 = Load(p.B, p.BType, b0 + bk), y1 = Load(p.B, p.BType, b1 + bk);
                float y2 = Load(p.B, p.BType, b2 + bk), y3 = Load(p.B, p.BType, b3 + bk);
                c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
                c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
                c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
                c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
            }

            long c0 = p.COffset + bi * p.CBatch + (long)i0 * p.CRow + j0;
            int rows = Math.Min(Tile, p.M - i0), cols = Math.Min(Tile, p.N - j0);
            StoreRow(p, c0, cols, c00, c01, c02, c03);
            if (rows > 1) StoreRow(p, c0 + p.CRow, cols, c10, c11, c12, c13);
            if (rows > 2) StoreRow(p, c0 + 2 * p.CRow, cols, c20, c21, c22, c23);
            if (rows > 3) StoreRow(p, c0 + 3 * p.CRow, cols, c30, c31, c32, c33);
        }
    }

    static void StoreRow(in GemmParams p, long e, int cols, float v0, float v1, float v2, float v3)
    {
        Store(p, e, v0);
        if (cols > 1) Store(p, e + 1, v1);
        if (cols > 2) Store(p, e + 2, v2);
        if (cols > 3) Store(p, e + 3, v3);
    }

    static void Store(in GemmParams p, long e, float sum)
    {
        float v = p.Alpha * sum;
        if (p.Accumulate != 0) v += Load(p.C, p.CType, e);
        switch (p.CType)
        {
            case KTensor.F32: p.C.Cast<float>()[e] = v; break;
            case KTensor.BF16: p.C.Cast<ushort>()[e] = Num.FloatToBf16(v); break;
            default: p.C.Cast<ushort>()[e] = Num.FloatToHalf(v); break;
        }
    }

    static float Load(ArrayView<byte> data, int type, long e)
    {
        if (type == KTensor.F32) return data.Cast<float>()[e];
        ushort h = data.Cast<ushort>()[e];
        return type == KTensor.BF16 ? Num.Bf16ToFloat(h) : Num.HalfToFloat(h);
    }
}
