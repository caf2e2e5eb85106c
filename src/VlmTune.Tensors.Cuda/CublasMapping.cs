using VlmTune.Tensors.Cuda.Native;

namespace VlmTune.Tensors.Cuda;

/// <summary>Which of the backend's operands cuBLAS receives as its A (the other is its B).</summary>
public enum GemmOperand { A, B }

/// <summary>
/// The exact column-major arguments of cublasGemmEx / cublasGemmStridedBatchedEx (cuBLAS's own names: its A is
/// <see cref="First"/>, its B <see cref="Second"/>): C = Alpha·op(A)·op(B) + Beta·C with op(A) M×K, op(B) K×N, C M×N,
/// leading dimensions Lda/Ldb/Ldc, batch strides in elements (0 broadcasts), cudaDataType codes and the compute type.
/// </summary>
public readonly record struct CublasGemmArgs(
    int TransA, int TransB, int M, int N, int K, int Lda, int Ldb, int Ldc,
    long StrideA, long StrideB, long StrideC, int Batch,
    int AType, int BType, int CType, int ComputeType, float Alpha, float Beta,
    GemmOperand First, GemmOperand Second);

/// <summary>The three cuBLASLt matrix layouts (column-major rows × cols, leading dimension) of a mapped GEMM.</summary>
public readonly record struct LtLayouts(
    ulong ARows, ulong ACols, long Lda, ulong BRows, ulong BCols, long Ldb, ulong CRows, ulong CCols, long Ldc);

/// <summary>
/// Row-major GEMMs as column-major cuBLAS calls, a pure function. A row-major (r, c) matrix with row stride c is,
/// read column-major, its transpose: (c, r) with leading dimension c. So row-major C = op(A)·op(B) (C M×N) is
/// column-major Cᵀ = op(B)ᵀ·op(A)ᵀ (N×M, ld N): cuBLAS gets our B first and our A second, m = N, n = M, k = K;
/// our stored B is, read column-major, already op(B)ᵀ when not transposed (ld N), and needs cuBLAS's transpose when it
/// is (stored (N,K): ld K); the same for A (ld K, or M when transposed). Beta is 1 to accumulate and 0 to write
/// (cuBLAS does not read C when beta is 0).
/// </summary>
public static class CublasMapping
{
    public static int DataType(DType t) => t switch
    {
        DType.F32 => CublasConst.R32F,
        DType.BF16 => CublasConst.R16BF,
        DType.F16 => CublasConst.R16F,
        _ => throw new ShapeException($"cublas: no cudaDataType for {t.Name()}"),
    };

    public static CublasGemmArgs Map(in GemmShape s)
    {
        if (s.M < 0 || s.N < 0 || s.K < 0 || s.Batch < 0)
            throw new ShapeException($"cublas: negative gemm size M={s.M} N={s.N} K={s.K} batch={s.Batch}");
        return new CublasGemmArgs(
            TransA: s.TransB ? CublasConst.OpT : CublasConst.OpN,
            TransB: s.TransA ? CublasConst.OpT : CublasConst.OpN,
            M: s.N, N: s.M, K: s.K,
            Lda: Math.Max(1, s.TransB ? s.K : s.N),
            Ldb: Math.Max(1, s.TransA ? s.M : s.K),
            Ldc: Math.Max(1, s.N),
            StrideA: s.BStride, StrideB: s.AStride, StrideC: s.CStride, Batch: s.Batch,
            AType: DataType(s.BType), BType: DataType(s.AType), CType: DataType(s.CType),
            ComputeType: CublasConst.Compute32F, Alpha: s.Alpha, Beta: s.Accumulate ? 1f : 0f,
            First: GemmOperand.B, Second: GemmOperand.A);
    }

    /// <summary>The cuBLASLt layouts of the same call: a stored matrix is (rows × cols) = op's shape before the op.</summary>
    public static LtLayouts Layouts(in CublasGemmArgs g) => new(
        ARows: (ulong)(g.TransA == CublasConst.OpN ? g.M : g.K), ACols: (ulong)(g.TransA == CublasConst.OpN ? g.K : g.M), Lda: g.Lda,
        BRows: (ulong)(g.TransB == CublasConst.OpN ? g.K : g.N), BCols: (ulong)(g.TransB == CublasConst.OpN ? g.N : g.K), Ldb: g.Ldb,
        CRows: (ulong)g.M, CCols: (ulong)g.N, Ldc: g.Ldc);
}
