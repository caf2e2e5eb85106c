namespace VlmTune.Tensors;

/// <summary>
/// The shape rule of <see cref="IBackend.MatMul"/>, checked once for every backend: rank-3 a, b, c (batch first),
/// a (Ba,M,K) or (Ba,K,M) if transA, b (Bb,K,N) or (Bb,N,K) if transB, c (B,M,N), with Ba and Bb equal to B or 1.
/// </summary>
public readonly record struct MatMulShape(int Batch, int M, int N, int K, int BatchA, int BatchB)
{
    public static MatMulShape Of(Tensor a, bool transA, Tensor b, bool transB, Tensor c)
    {
        var (batch, m, n) = c.Shape.Dims3();
        var (ba, a1, a2) = a.Shape.Dims3();
        var (bb, b1, b2) = b.Shape.Dims3();
        int k = transA ? a1 : a2;
        if ((transA ? a2 : a1) != m || (transB ? b2 : b1) != k || (transB ? b1 : b2) != n
            || (ba != batch && ba != 1) || (bb != batch && bb != 1))
            throw new ShapeException($"matmul: a {a.Shape}{(transA ? "ᵀ" : "")} · b {b.Shape}{(transB ? "ᵀ" : "")} does not give c {c.Shape}");
        return new(batch, m, n, k, ba, bb);
    }
}
