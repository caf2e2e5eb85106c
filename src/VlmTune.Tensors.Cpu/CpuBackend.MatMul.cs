using VlmTune.Tensors.Cpu.Kernels;

namespace VlmTune.Tensors.Cpu;

// Batched GEMM dispatch onto the blocked kernel. Legend: a (Ba,M,K) or (Ba,K,M) if transA; b (Bb,K,N) or (Bb,N,K)
// if transB; c (B,M,N). Small per-batch products run one per thread; large ones use all threads each.
// Dtypes: b in bf16 is widened inside the GEMM's packing (exact); a bf16 a is widened to scratch and a bf16 c is
// computed in an f32 scratch (pre-filled from c when accumulating) and rounded once.
public sealed unsafe partial class CpuBackend
{
    public void MatMul(Tensor a, bool transA, Tensor b, bool transB, Tensor c, float alpha, bool accumulate)
    {
        var c32 = Out(c, accumulate);
        MatMulF32(W(a), transA, b.DType == DType.BF16 ? b : W(b), transB, c32, alpha, accumulate);
        Store(c32, c);
    }

    void MatMulF32(Tensor a, bool transA, Tensor b, bool transB, Tensor c, float alpha, bool accumulate)
    {
        using var keep = Hold(a, b, c);
        Contig(a, "matmul a");
        Contig(b, "matmul b");
        Contig(c, "matmul c");
        var (batch, m, n, k, ba, bb) = MatMulShape.Of(a, transA, b, transB, c);
        if (a.DType != DType.F32 || b.DType is not (DType.F32 or DType.BF16))
            throw new ShapeException($"matmul: a must be f32 and b f32/bf16, got {a.DType.Name()} and {b.DType.Name()}");
        bool bf16 = b.DType == DType.BF16;
        float* ap = F(a), cp = F(c);
        byte* bp = Base(b);
        long aStride = ba == 1 ? 0 : (long)m * k, bStride = bb == 1 ? 0 : (long)k * n, cStride = (long)m * n;
        int lda = transA ? m : k, ldb = transB ? k : n; // the last axis of a and of b
        double flopsPerBatch = 2.0 * m * n * k;
        bool perThread = batch > 1 && flopsPerBatch < 4e6;
        void One(int i, int threads)
        {
            float* ai = ap + i * aStride, ci = cp + i * cStride;
            if (bf16) Gemm.F32Bf16B(transA, transB, m, n, k, alpha, ai, lda, (ushort*)bp + i * bStride, ldb, ci, n, accumulate, threads);
            else Gemm.F32(transA, transB, m, n, k, alpha, ai, lda, (float*)bp + i * bStride, ldb, ci, n, accumulate, threads);
        }
        if (perThread) Par.For(batch, 1, Threads, (s, e) => { for (int i = s; i < e; i++) One(i, 1); });
        else for (int i = 0; i < batch; i++) One(i, Threads);
    }
}
