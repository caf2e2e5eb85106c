namespace VlmTune.Tensors.Cpu.Kernels;

// Legend: M = rows of C, N = columns of C, K = reduction length. Row-major storage with leading dimensions.
//   op(A): (M,K) — A stored (M,K) with lda ≥ K, or stored (K,M) with lda ≥ M when transA.
//   op(B): (K,N) — B stored (K,N) with ldb ≥ N, or stored (N,K) with ldb ≥ K when transB.
//   C:     (M,N) with ldc ≥ N.     C = (accumulate ? C : 0) + alpha · op(A)·op(B)   (assigned or accumulated)
// Engine uses: Y = X·Wᵀ (transB, W (out,in), maybe bf16), dX = dY·W, dW = dYᵀ·X (transA), attention Q·Kᵀ, P·V.
// Design (after engine.md §3): Goto packing (KC ≤ 256, MC ≤ 120, NC ≤ 4096) and a 6×16 Vector256 or 6×32
// Vector512 FMA micro-kernel chosen at run time (GemmKernelSelection); bf16 B is widened exactly while
// packing; see GemmDriver for the loop nest and the thread split. M ≤ 8 (decoding) takes GemmSmallM instead.

/// <summary>CPU matrix multiplication in f32, optionally with B stored as bf16. Calls block until done.</summary>
public static unsafe class Gemm
{
    private static readonly GemmBarrier s_singleThread = new();

    /// <summary>The micro-kernel in use on this machine, for logs: "vector512-fma", "vector256-fma" or "scalar".</summary>
    public static string KernelName => GemmMicroKernel.Kind switch
    {
        GemmKernelKind.Vector512 => "vector512-fma",
        GemmKernelKind.Vector256 => "vector256-fma",
        _ => "scalar",
    };

    /// <summary>C[M,N] = (accumulate ? C : 0) + alpha · op(A)[M,K] · op(B)[K,N], using up to
    /// <paramref name="threads"/> threads (the calling thread is one of them).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size, leading dimension or thread count is invalid.</exception>
    /// <exception cref="ArgumentNullException">A matrix that would be read or written is null.</exception>
    public static void F32(bool transA, bool transB, int M, int N, int K, float alpha,
        float* A, int lda, float* B, int ldb, float* C, int ldc, bool accumulate, int threads)
    {
        Validate(transA, transB, M, N, K, A, lda, B != null, ldb, C, ldc, threads);
        var problem = new GemmProblem
        {
            TransA = transA, TransB = transB, M = M, N = N, K = K, Alpha = alpha,
            A = A, Lda = lda, B = B, Bh = null, Ldb = ldb, C = C, Ldc = ldc, Accumulate = accumulate,
            Kernel = GemmMicroKernel.Kind,
        };
        Execute(problem, threads);
    }

    /// <summary>As <see cref="F32"/>, with B holding bf16 bit patterns (widened exactly: (uint)b &lt;&lt; 16).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size, leading dimension or thread count is invalid.</exception>
    /// <exception cref="ArgumentNullException">A matrix that would be read or written is null.</exception>
    public static void F32Bf16B(bool transA, bool transB, int M, int N, int K, float alpha,
        float* A, int lda, ushort* B, int ldb, float* C, int ldc, bool accumulate, int threads)
    {
        Validate(transA, transB, M, N, K, A, lda, B != null, ldb, C, ldc, threads);
        var problem = new GemmProblem
        {
            TransA = transA, TransB = transB, M = M, N = N, K = K, Alpha = alpha,
            A = A, Lda = lda, B = null, Bh = B, Ldb = ldb, C = C, Ldc = ldc, Accumulate = accumulate,
            Kernel = GemmMicroKernel.Kind,
        };
        Execute(problem, threads);
    }

    private static void Execute(in GemmProblem p, int threads)
    {
        if (p.M == 0 || p.N == 0) return;
        if (p.K == 0)
        {
            if (!p.Accumulate) ClearC(p.C, p.M, p.N, p.Ldc);
            return;
        }

        if (GemmSmallM.Applies(p))   // M ≤ 8: B (the weight) read in place, no packing
        {
            threads = GemmSmallM.Threads(p, threads);
            if (threads == 1) GemmSmallM.Run(p, 0, 1);
            else GemmThreads.Run(p, threads);
            return;
        }
        if (2L * p.M * p.N * p.K < GemmBlocking.MinFlopsForThreads) threads = 1;
        if (threads == 1)
        {
            GemmWorkspace ws = GemmWorkspace.Rent(1);
            GemmDriver.Run(p, ws, 0, 1, s_singleThread);
            GemmWorkspace.Return(ws);
            return;
        }
        GemmThreads.Run(p, threads);
    }

    private static void ClearC(float* C, int M, int N, int ldc)
    {
        // SAFETY: rows 0..M of C, each N floats at stride ldc ≥ N, were validated to be the caller's C.
        for (int i = 0; i < M; i++) new Span<float>(C + (long)i * ldc, N).Clear();
    }

    private static void Validate(bool transA, bool transB, int M, int N, int K, float* A, int lda,
        bool hasB, int ldb, float* C, int ldc, int threads)
    {
        if (M < 0) throw new ArgumentOutOfRangeException(nameof(M), M, "GEMM: M must be >= 0.");
        if (N < 0) throw new ArgumentOutOfRangeException(nameof(N), N, "GEMM: N must be >= 0.");
        if (K < 0) throw new ArgumentOutOfRangeException(nameof(K), K, "GEMM: K must be >= 0.");
        if (threads < 1)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "GEMM: threads must be >= 1.");
        CheckLeading(nameof(lda), lda, transA ? M : K, transA ? "M (transA)" : "K");
        CheckLeading(nameof(ldb), ldb, transB ? K : N, transB ? "K (transB)" : "N");
        CheckLeading(nameof(ldc), ldc, N, "N");

        bool computes = M > 0 && N > 0 && K > 0;
        if (computes && A == null) throw new ArgumentNullException(nameof(A), $"GEMM {M}x{N}x{K}: A is null.");
        if (computes && !hasB) throw new ArgumentNullException("B", $"GEMM {M}x{N}x{K}: B is null.");
        if (M > 0 && N > 0 && C == null) throw new ArgumentNullException(nameof(C), $"GEMM {M}x{N}x{K}: C is null.");
    }

    private static void CheckLeading(string name, int ld, int rowLength, string what)
    {
        if (ld < rowLength || ld < 0)
            throw new ArgumentOutOfRangeException(name, ld,
                $"GEMM: leading dimension {name} = {ld} is smaller than the stored row length {what} = {rowLength}.");
    }
}
