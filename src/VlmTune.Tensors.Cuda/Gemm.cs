namespace VlmTune.Tensors.Cuda;

/// <summary>
/// One row-major batched GEMM as the backend issues it: c[i] = (accumulate ? c[i] : 0) + alpha · op(a[i]) · op(b[i])
/// for i &lt; Batch, a (M,K) or (K,M) if TransA, b (K,N) or (N,K) if TransB, c (M,N); each operand is a storage block
/// at an element offset with a batch stride (0 broadcasts one matrix). a and b share a float dtype (f32, bf16, f16);
/// c is f32 or a's dtype (<see cref="GemmShape.IsSupported"/>: the cuBLAS GemmEx combinations). Accumulation is f32.
/// Every matrix is dense row-major: a's row stride is its column count, and so on.
/// </summary>
public readonly record struct GemmCall(
    bool TransA, bool TransB, int M, int N, int K, float Alpha, bool Accumulate, int Batch,
    CudaStorage A, long AOffset, long AStride, DType AType,
    CudaStorage B, long BOffset, long BStride, DType BType,
    CudaStorage C, long COffset, long CStride, DType CType)
{
    /// <summary>Everything but the storages and offsets (what the cuBLAS mapping needs).</summary>
    public GemmShape Shape => new(TransA, TransB, M, N, K, Alpha, Accumulate, Batch, AStride, BStride, CStride, AType, BType, CType);
}

/// <summary>The shape part of a <see cref="GemmCall"/>: sizes, flags, batch strides (elements) and dtypes.</summary>
public readonly record struct GemmShape(
    bool TransA, bool TransB, int M, int N, int K, float Alpha, bool Accumulate, int Batch,
    long AStride, long BStride, long CStride, DType AType, DType BType, DType CType)
{
    /// <summary>
    /// The input/output dtype pairs a provider accepts (cuBLAS GemmEx with CUBLAS_COMPUTE_32F): a = b ∈ {f32, bf16,
    /// f16} and c = f32 or c = a. Anything else (f32 inputs into a bf16 c, mixed inputs) is converted by the backend.
    /// </summary>
    public static bool IsSupported(DType ab, DType c) => ab is DType.F32 or DType.BF16 or DType.F16 && (c == DType.F32 || c == ab);

    /// <summary>
    /// The GEMM for an <c>IBackend.MatMul</c> of c (batch, m, n) with a batched or broadcast (batch 1) a and b, all
    /// dense. When b is broadcast and a is batched and not transposed, the batch folds into M (one GEMM of
    /// batch·m rows: a's and c's batches are consecutive rows); the products are the same.
    /// </summary>
    public static GemmShape ForMatMul(int batch, int m, int n, int k, bool transA, bool transB, bool aBatched, bool bBatched,
        float alpha, bool accumulate, DType ab, DType c)
    {
        if (batch > 1 && aBatched && !bBatched && !transA && (long)batch * m <= int.MaxValue)
            return new(false, transB, batch * m, n, k, alpha, accumulate, 1, 0, 0, 0, ab, ab, c);
        return new(transA, transB, m, n, k, alpha, accumulate, batch,
            aBatched ? (long)m * k : 0, bBatched ? (long)k * n : 0, (long)m * n, ab, ab, c);
    }
}

/// <summary>Who runs <see cref="GemmCall"/>s: cuBLAS on a GPU, an ILGPU GEMM kernel in simulation.</summary>
public interface IGemmProvider
{
    string Name { get; }
    void Run(in GemmCall call);
}
