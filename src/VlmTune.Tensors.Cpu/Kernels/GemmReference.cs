namespace VlmTune.Tensors.Cpu.Kernels;

// Legend: M = rows of C, N = columns of C, K = reduction length.
// op(A): (M,K) — stored (M,K) with row stride lda, or (K,M) when transA.
// op(B): (K,N) — stored (K,N) with row stride ldb, or (N,K) when transB.
// C:     (M,N) with row stride ldc. C = (accumulate ? C : 0) + alpha * op(A)·op(B).

/// <summary>
/// Deliberately naive GEMM: one triple loop with double accumulation. It is the oracle that
/// <see cref="Gemm"/> is tested against; it is not meant to be fast. Arguments are not validated
/// (the tests call it with the same arguments they give <see cref="Gemm"/>, which validates).
/// </summary>
public static unsafe class GemmReference
{
    public static void F32(bool transA, bool transB, int M, int N, int K, float alpha,
        float* A, int lda, float* B, int ldb, float* C, int ldc, bool accumulate)
    {
        // SAFETY: the caller guarantees A, B and C cover the extents implied by M, N, K and the leading
        // dimensions (the same contract as Gemm.F32); every index below stays inside those extents.
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double sum = 0;
                for (int k = 0; k < K; k++)
                {
                    float a = transA ? A[(long)k * lda + i] : A[(long)i * lda + k];
                    float b = transB ? B[(long)j * ldb + k] : B[(long)k * ldb + j];
                    sum += (double)a * b;
                }
                float* c = C + (long)i * ldc + j;
                *c = (float)((accumulate ? *c : 0.0) + alpha * sum);
            }
        }
    }

    public static void F32Bf16B(bool transA, bool transB, int M, int N, int K, float alpha,
        float* A, int lda, ushort* B, int ldb, float* C, int ldc, bool accumulate)
    {
        // SAFETY: as in F32 above; B holds ushort bf16 bit patterns.
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double sum = 0;
                for (int k = 0; k < K; k++)
                {
                    float a = transA ? A[(long)k * lda + i] : A[(long)i * lda + k];
                    ushort bits = transB ? B[(long)j * ldb + k] : B[(long)k * ldb + j];
                    sum += (double)a * Bf16ToSingle(bits);
                }
                float* c = C + (long)i * ldc + j;
                *c = (float)((accumulate ? *c : 0.0) + alpha * sum);
            }
        }
    }

    /// <summary>Exact bf16 → f32 widening: the 16 bits become the high half of the f32.</summary>
    public static float Bf16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);
}
