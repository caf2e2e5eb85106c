namespace VlmTune.Tensors.Cpu.Kernels;

// Temporary naive GEMM with the final signature (replaced by the blocked SIMD kernel).
public static unsafe class Gemm
{
    public static void F32(bool transA, bool transB, int M, int N, int K, float alpha,
        float* A, int lda, float* B, int ldb, float* C, int ldc, bool accumulate, int threads)
    {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                float s = 0;
                for (int k = 0; k < K; k++)
                    s += (transA ? A[k * lda + i] : A[i * lda + k]) * (transB ? B[j * ldb + k] : B[k * ldb + j]);
                C[i * ldc + j] = (accumulate ? C[i * ldc + j] : 0) + alpha * s;
            }
    }

    public static void F32Bf16B(bool transA, bool transB, int M, int N, int K, float alpha,
        float* A, int lda, ushort* B, int ldb, float* C, int ldc, bool accumulate, int threads)
    {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                float s = 0;
                for (int k = 0; k < K; k++)
                {
                    ushort b = transB ? B[j * ldb + k] : B[k * ldb + j];
                    s += (transA ? A[k * lda + i] : A[i * lda + k]) * BitConverter.UInt32BitsToSingle((uint)b << 16);
                }
                C[i * ldc + j] = (accumulate ? C[i * ldc + j] : 0) + alpha * s;
            }
    }
}
