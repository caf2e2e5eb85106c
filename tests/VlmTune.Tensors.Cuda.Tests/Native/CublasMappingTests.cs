using VlmTune.Tensors.Cuda.Native;
using VlmTune.Tensors.Cuda.Tests.Support;
using O = VlmTune.Tensors.Ops;

namespace VlmTune.Tensors.Cuda.Tests.Native;

/// <summary>
/// The row-major → column-major mapping (<see cref="CublasMapping.Map"/>) interpreted by a managed cuBLAS stand-in
/// (<see cref="ColumnMajorBlas"/>) against the CPU backend's MatMul, over shapes, transposes, batch broadcasts,
/// alpha and accumulate. No GPU: this is what makes the cuBLAS provider's arguments trustworthy without one.
/// </summary>
public class CublasMappingTests
{
    static float[] Values(Random rng, long n)
    {
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    static void Case(Random rng, int batch, int ba, int bb, int m, int n, int k, bool ta, bool tb, float alpha, bool accumulate)
    {
        var a = Values(rng, (long)ba * m * k);
        var b = Values(rng, (long)bb * k * n);
        var c0 = Values(rng, (long)batch * m * n);
        var at = O.FromArray(a, new Shape(ba, ta ? k : m, ta ? m : k), Sim.Cpu);
        var bt = O.FromArray(b, new Shape(bb, tb ? n : k, tb ? k : n), Sim.Cpu);
        var ct = O.FromArray((float[])c0.Clone(), new Shape(batch, m, n), Sim.Cpu);
        ct.Backend.MatMul(at, ta, bt, tb, ct, alpha, accumulate);
        var expected = ct.ToArray<float>();

        var s = GemmShape.ForMatMul(batch, m, n, k, ta, tb, ba != 1, bb != 1, alpha, accumulate, DType.F32, DType.F32);
        var g = CublasMapping.Map(s);
        string what = $"{batch}x({ba},{bb}) {m}x{n}x{k} ta={ta} tb={tb} alpha={alpha} acc={accumulate}: {g}";
        Assert.Equal(accumulate ? 1f : 0f, g.Beta);
        var first = g.First == GemmOperand.B ? b : a;
        var second = g.Second == GemmOperand.B ? b : a;
        Assert.NotSame(first, second);

        var viaGemmEx = (float[])c0.Clone();
        ColumnMajorBlas.Gemm(g, first, second, viaGemmEx);
        Close.Equal(expected, viaGemmEx, 1e-5f, 1e-5f, "GemmEx " + what);

        var viaLt = (float[])c0.Clone();
        ColumnMajorBlas.Lt(g, CublasMapping.Layouts(g), first, second, viaLt);
        Close.Equal(expected, viaLt, 1e-5f, 1e-5f, "Lt " + what);
    }

    [Fact]
    public void Odd_sizes_and_all_transposes()
    {
        var rng = new Random(11);
        int[] sizes = [1, 2, 3, 5, 17];
        foreach (int m in sizes)
            foreach (int n in sizes)
                foreach (int k in new[] { 1, 4, 17 })
                    for (int t = 0; t < 4; t++)
                        Case(rng, 1, 1, 1, m, n, k, (t & 1) != 0, (t & 2) != 0, 1f, false);
    }

    [Fact]
    public void Batches_broadcasts_alpha_accumulate()
    {
        var rng = new Random(12);
        for (int i = 0; i < 160; i++)
        {
            int batch = rng.Next(1, 4);
            int ba = rng.Next(2) == 0 ? 1 : batch, bb = rng.Next(2) == 0 ? 1 : batch;
            float alpha = new[] { 1f, 0.5f, -1.5f }[rng.Next(3)];
            Case(rng, batch, ba, bb, rng.Next(1, 9), rng.Next(1, 9), rng.Next(1, 9), rng.Next(2) == 0, rng.Next(2) == 0, alpha, rng.Next(2) == 0);
        }
    }

    [Fact]
    public void Linear_forward_is_the_documented_call()
    {
        // Y (tokens, out) = X (tokens, in) · Wᵀ, W (out, in): GemmEx(T, N, m=out, n=tokens, k=in, W, lda=in, X, ldb=in, Y, ldc=out)
        var g = CublasMapping.Map(GemmShape.ForMatMul(1, 7, 5, 3, false, true, false, false, 1f, false, DType.BF16, DType.F32));
        Assert.Equal((CublasConst.OpT, CublasConst.OpN, 5, 7, 3, 3, 3, 5), (g.TransA, g.TransB, g.M, g.N, g.K, g.Lda, g.Ldb, g.Ldc));
        Assert.Equal((GemmOperand.B, GemmOperand.A), (g.First, g.Second));
        Assert.Equal((CublasConst.R16BF, CublasConst.R16BF, CublasConst.R32F, CublasConst.Compute32F), (g.AType, g.BType, g.CType, g.ComputeType));
        // plain C = A·B: GemmEx(N, N, m=N, n=M, k=K, B, ldb=N, A, lda=K, C, ldc=N)
        var p = CublasMapping.Map(GemmShape.ForMatMul(1, 4, 6, 9, false, false, false, false, 1f, true, DType.F16, DType.F16));
        Assert.Equal((CublasConst.OpN, CublasConst.OpN, 6, 4, 9, 6, 9, 6, 1f), (p.TransA, p.TransB, p.M, p.N, p.K, p.Lda, p.Ldb, p.Ldc, p.Beta));
        Assert.Equal((CublasConst.R16F, CublasConst.R16F), (p.AType, p.CType));
    }

    [Fact]
    public void Batch_folds_only_when_b_is_broadcast_and_a_is_not_transposed()
    {
        var f = GemmShape.ForMatMul(3, 4, 5, 6, false, true, true, false, 1f, false, DType.F32, DType.F32);
        Assert.Equal((1, 12), (f.Batch, f.M));
        var t = GemmShape.ForMatMul(3, 4, 5, 6, true, true, true, false, 1f, false, DType.F32, DType.F32);
        Assert.Equal((3, 4, 24L, 0L, 20L), (t.Batch, t.M, t.AStride, t.BStride, t.CStride));
        var g = CublasMapping.Map(t);
        Assert.Equal((0L, 24L, 20L), (g.StrideA, g.StrideB, g.StrideC)); // cuBLAS's A is our b (broadcast)
    }

    [Fact]
    public void Provider_dtype_combinations_are_cublas_ones()
    {
        Assert.True(GemmShape.IsSupported(DType.F32, DType.F32));
        Assert.True(GemmShape.IsSupported(DType.BF16, DType.BF16));
        Assert.True(GemmShape.IsSupported(DType.BF16, DType.F32));
        Assert.True(GemmShape.IsSupported(DType.F16, DType.F32));
        Assert.False(GemmShape.IsSupported(DType.F32, DType.BF16)); // not a GemmEx combination: the backend uses an f32 scratch
        Assert.False(GemmShape.IsSupported(DType.BF16, DType.F16));
        Assert.False(GemmShape.IsSupported(DType.I32, DType.F32));
        Assert.Throws<ShapeException>(() => CublasMapping.DataType(DType.I32));
    }
}
