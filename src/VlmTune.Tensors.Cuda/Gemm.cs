namespace VlmTune.Tensors.Cuda;

/// <summary>
/// One row-major batched GEMM as the backend issues it: c[i] = (accumulate ? c[i] : 0) + alpha · op(a[i]) · op(b[i])
/// for i &lt; Batch, a (M,K) or (K,M) if TransA, b (K,N) or (N,K) if TransB, c (M,N); each operand is a storage block
/// at an element offset with a batch stride (0 broadcasts one matrix). a and b share a float dtype (f32, bf16, f16);
/// c is f32 or bf16. Accumulation is f32.
/// </summary>
public readonly record struct GemmCall(
    bool TransA, bool TransB, int M, int N, int K, float Alpha, bool Accumulate, int Batch,
    CudaStorage A, long AOffset, long AStride, DType AType,
    CudaStorage B, long BOffset, long BStride, DType BType,
    CudaStorage C, long COffset, long CStride, DType CType);

/// <summary>Who runs <see cref="GemmCall"/>s: cuBLAS on a GPU, an ILGPU GEMM kernel in simulation.</summary>
public interface IGemmProvider
{
    string Name { get; }
    void Run(in GemmCall call);
}
