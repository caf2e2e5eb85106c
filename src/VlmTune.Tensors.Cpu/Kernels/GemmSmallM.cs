using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VlmTune.Tensors.Cpu.Kernels;

// Legend as in Gemm.cs: M rows of C, N columns, K the reduction. The small-M path (1 ≤ M ≤ 8, A not transposed):
// decoding's Y = X·Wᵀ with M = the tokens in flight, and the per-block products of decode attention (q·Kᵀ, p·V with
// one query row). With so few rows nothing amortises packing B — which is the weight — so B is read in place:
//   NT (transB, B stored (N,K), the linear-layer forward): C[m,n] = alpha·Σ_k A[m,k]·B[n,k]. Four rows of B at a time;
//      every row of A is dotted with them (8 Vector256 accumulators: 4 rows × 2 interleaved k streams), so the four
//      rows stay in L1 while the ≤ 8 rows of A go past. A GEMV for M = 1, memory-bound on B.
//   NN (B stored (K,N)): C[m, n0..n0+32) = alpha·Σ_k A[m,k]·B[k, n0..n0+32), k outer, 4 accumulators.
// With the GEMM's Vector512 kind, NT runs the same loop 16 lanes wide (Nt512). bf16 B is widened exactly in
// registers ((uint)b << 16). C is assigned or accumulated (C += alpha·A·B) as Gemm says.
// Threads take disjoint ranges of N (whole groups of 4 rows / 32 columns); each element of C is computed by one
// thread in one fixed order, so results do not depend on the thread count. Order differs from the blocked GEMM's
// (8 partial sums per dot, then a horizontal sum): f32 reassociation, tested against GemmReference.

/// <summary>The unpacked small-M GEMM (AVX2 + FMA), chosen by <see cref="Gemm"/> for M ≤ <see cref="MaxRows"/>.</summary>
internal static unsafe class GemmSmallM
{
    public const int MaxRows = 8;
    private const int RowGroup = 4, ColumnGroup = 32;
    /// <summary>Below this many elements of B one thread is faster than waking the workers.</summary>
    private const long MinElementsForThreads = 1L << 17;

    public static bool Applies(in GemmProblem p) =>
        p.M <= MaxRows && !p.TransA && p.Kernel != GemmKernelKind.Scalar && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>How many threads the call should use (1 for small B).</summary>
    public static int Threads(in GemmProblem p, int threads)
    {
        if ((long)p.N * p.K < MinElementsForThreads) return 1;
        int groups = (p.N + Group(p) - 1) / Group(p);
        return Math.Max(1, Math.Min(threads, groups));
    }

    private static int Group(in GemmProblem p) => p.TransB ? RowGroup : ColumnGroup;

    /// <summary>Thread <paramref name="tid"/>'s columns of C. M, N, K &gt; 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in GemmProblem p, int tid, int threads)
    {
        int group = Group(p), groups = (p.N + group - 1) / group;
        int n0 = (int)((long)groups * tid / threads) * group;
        int n1 = Math.Min(p.N, (int)((long)groups * (tid + 1) / threads) * group);
        if (n0 >= n1) return;
        if (p.TransB && p.Kernel == GemmKernelKind.Vector512 && p.K >= 32)
        {
            if (p.Bh != null) Nt512<Bf16>(p, p.Bh, n0, n1);
            else Nt512<F32>(p, p.B, n0, n1);
        }
        else if (p.TransB)
        {
            if (p.Bh != null) Nt<Bf16>(p, p.Bh, n0, n1);
            else Nt<F32>(p, p.B, n0, n1);
        }
        else
        {
            if (p.Bh != null) Nn<Bf16>(p, p.Bh, n0, n1);
            else Nn<F32>(p, p.B, n0, n1);
        }
    }

    /// <summary>How one kind of B element is read: 8 lanes as f32, or one element.</summary>
    private interface IElement
    {
        static abstract Vector256<float> Load8(void* b, long i);
        static abstract Vector512<float> Load16(void* b, long i);
        static abstract float Load1(void* b, long i);
    }

    private readonly struct F32 : IElement
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(void* b, long i) => Vector256.Load((float*)b + i);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load16(void* b, long i) => Vector512.Load((float*)b + i);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load1(void* b, long i) => ((float*)b)[i];
    }

    private readonly struct Bf16 : IElement
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(void* b, long i) =>
            Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32((ushort*)b + i), 16).AsSingle();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load16(void* b, long i) =>
            Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector256.Load((ushort*)b + i)), 16).AsSingle();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load1(void* b, long i) => BitConverter.UInt32BitsToSingle((uint)((ushort*)b)[i] << 16);
    }

    // SAFETY (both kernels): Gemm validated the sizes and leading dimensions; rows n0..n1 of B (NT) or columns
    // n0..n1 of B (NN), rows 0..M of A and C, are inside the caller's buffers.

    private static void Nt<T>(in GemmProblem p, void* b, int n0, int n1) where T : struct, IElement
    {
        int K = p.K;
        long ldb = p.Ldb;
        int n = n0;
        for (; n + RowGroup <= n1; n += RowGroup)
        {
            long r0 = n * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
            for (int m = 0; m < p.M; m++)
            {
                float* a = p.A + (long)m * p.Lda;
                var s0 = Vector256<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
                var t0 = s0; var t1 = s0; var t2 = s0; var t3 = s0;
                int k = 0;
                for (; k + 16 <= K; k += 16)
                {
                    var x = Vector256.Load(a + k);
                    var y = Vector256.Load(a + k + 8);
                    s0 = Fma.MultiplyAdd(x, T.Load8(b, r0 + k), s0);
                    s1 = Fma.MultiplyAdd(x, T.Load8(b, r1 + k), s1);
                    s2 = Fma.MultiplyAdd(x, T.Load8(b, r2 + k), s2);
                    s3 = Fma.MultiplyAdd(x, T.Load8(b, r3 + k), s3);
                    t0 = Fma.MultiplyAdd(y, T.Load8(b, r0 + k + 8), t0);
                    t1 = Fma.MultiplyAdd(y, T.Load8(b, r1 + k + 8), t1);
                    t2 = Fma.MultiplyAdd(y, T.Load8(b, r2 + k + 8), t2);
                    t3 = Fma.MultiplyAdd(y, T.Load8(b, r3 + k + 8), t3);
                }
                if (k + 8 <= K)
                {
                    var x = Vector256.Load(a + k);
                    s0 = Fma.MultiplyAdd(x, T.Load8(b, r0 + k), s0);
                    s1 = Fma.MultiplyAdd(x, T.Load8(b, r1 + k), s1);
                    s2 = Fma.MultiplyAdd(x, T.Load8(b, r2 + k), s2);
                    s3 = Fma.MultiplyAdd(x, T.Load8(b, r3 + k), s3);
                    k += 8;
                }
                float d0 = Vector256.Sum(s0 + t0), d1 = Vector256.Sum(s1 + t1), d2 = Vector256.Sum(s2 + t2), d3 = Vector256.Sum(s3 + t3);
                for (; k < K; k++)
                {
                    float x = a[k];
                    d0 += x * T.Load1(b, r0 + k);
                    d1 += x * T.Load1(b, r1 + k);
                    d2 += x * T.Load1(b, r2 + k);
                    d3 += x * T.Load1(b, r3 + k);
                }
                float* c = p.C + (long)m * p.Ldc + n;
                Store(c, 0, d0, p);
                Store(c, 1, d1, p);
                Store(c, 2, d2, p);
                Store(c, 3, d3, p);
            }
        }
        for (; n < n1; n++)   // the last 1–3 rows of B
        {
            long r = n * ldb;
            for (int m = 0; m < p.M; m++)
            {
                float* a = p.A + (long)m * p.Lda;
                var s = Vector256<float>.Zero;
                int k = 0;
                for (; k + 8 <= K; k += 8) s = Fma.MultiplyAdd(Vector256.Load(a + k), T.Load8(b, r + k), s);
                float d = Vector256.Sum(s);
                for (; k < K; k++) d += a[k] * T.Load1(b, r + k);
                Store(p.C + (long)m * p.Ldc + n, 0, d, p);
            }
        }
    }

    /// <summary><see cref="Nt{T}"/> with Vector512 (the GEMM's Vector512 kind): 16 lanes × 2 k streams per row.</summary>
    private static void Nt512<T>(in GemmProblem p, void* b, int n0, int n1) where T : struct, IElement
    {
        int K = p.K;
        long ldb = p.Ldb;
        int n = n0;
        for (; n + RowGroup <= n1; n += RowGroup)
        {
            long r0 = n * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
            for (int m = 0; m < p.M; m++)
            {
                float* a = p.A + (long)m * p.Lda;
                var s0 = Vector512<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
                var t0 = s0; var t1 = s0; var t2 = s0; var t3 = s0;
                int k = 0;
                for (; k + 32 <= K; k += 32)
                {
                    var x = Vector512.Load(a + k);
                    var y = Vector512.Load(a + k + 16);
                    s0 = Avx512F.FusedMultiplyAdd(x, T.Load16(b, r0 + k), s0);
                    s1 = Avx512F.FusedMultiplyAdd(x, T.Load16(b, r1 + k), s1);
                    s2 = Avx512F.FusedMultiplyAdd(x, T.Load16(b, r2 + k), s2);
                    s3 = Avx512F.FusedMultiplyAdd(x, T.Load16(b, r3 + k), s3);
                    t0 = Avx512F.FusedMultiplyAdd(y, T.Load16(b, r0 + k + 16), t0);
                    t1 = Avx512F.FusedMultiplyAdd(y, T.Load16(b, r1 + k + 16), t1);
                    t2 = Avx512F.FusedMultiplyAdd(y, T.Load16(b, r2 + k + 16), t2);
                    t3 = Avx512F.FusedMultiplyAdd(y, T.Load16(b, r3 + k + 16), t3);
                }
                if (k + 16 <= K)
                {
                    var x = Vector512.Load(a + k);
                    s0 = Avx512F.FusedMultiplyAdd(x, T.Load16(b, r0 + k), s0);
                    s1 = Avx512F.FusedMultiplyAdd(x, T.Load16(b, r1 + k), s1);
                    s2 = Avx512F.FusedMultiplyAdd(x, T.Load16(b, r2 + k), s2);
                    s3 = Avx512F.FusedMultiplyAdd(x, T.Load16(b, r3 + k), s3);
                    k += 16;
                }
                float d0 = Vector512.Sum(s0 + t0), d1 = Vector512.Sum(s1 + t1), d2 = Vector512.Sum(s2 + t2), d3 = Vector512.Sum(s3 + t3);
                for (; k < K; k++)
                {
                    float x = a[k];
                    d0 += x * T.Load1(b, r0 + k);
                    d1 += x * T.Load1(b, r1 + k);
                    d2 += x * T.Load1(b, r2 + k);
                    d3 += x * T.Load1(b, r3 + k);
                }
                float* c = p.C + (long)m * p.Ldc + n;
                Store(c, 0, d0, p);
                Store(c, 1, d1, p);
                Store(c, 2, d2, p);
                Store(c, 3, d3, p);
            }
        }
        if (n < n1) Nt<T>(p, b, n, n1);   // the last 1–3 rows of B
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, int j, float dot, in GemmProblem p) =>
        c[j] = p.Accumulate ? c[j] + p.Alpha * dot : p.Alpha * dot;

    private static void Nn<T>(in GemmProblem p, void* b, int n0, int n1) where T : struct, IElement
    {
        int K = p.K;
        long ldb = p.Ldb;
        var alpha = Vector256.Create(p.Alpha);
        for (int m = 0; m < p.M; m++)
        {
            float* a = p.A + (long)m * p.Lda;
            float* c = p.C + (long)m * p.Ldc;
            int n = n0;
            for (; n + ColumnGroup <= n1; n += ColumnGroup)
            {
                var s0 = Vector256<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
                for (int k = 0; k < K; k++)
                {
                    var x = Vector256.Create(a[k]);
                    long row = k * ldb + n;
                    s0 = Fma.MultiplyAdd(x, T.Load8(b, row), s0);
                    s1 = Fma.MultiplyAdd(x, T.Load8(b, row + 8), s1);
                    s2 = Fma.MultiplyAdd(x, T.Load8(b, row + 16), s2);
                    s3 = Fma.MultiplyAdd(x, T.Load8(b, row + 24), s3);
                }
                StoreVector(c + n, s0 * alpha, p.Accumulate);
                StoreVector(c + n + 8, s1 * alpha, p.Accumulate);
                StoreVector(c + n + 16, s2 * alpha, p.Accumulate);
                StoreVector(c + n + 24, s3 * alpha, p.Accumulate);
            }
            for (; n + 8 <= n1; n += 8)
            {
                var s = Vector256<float>.Zero;
                for (int k = 0; k < K; k++) s = Fma.MultiplyAdd(Vector256.Create(a[k]), T.Load8(b, k * ldb + n), s);
                StoreVector(c + n, s * alpha, p.Accumulate);
            }
            for (; n < n1; n++)
            {
                float s = 0f;
                for (int k = 0; k < K; k++) s = MathF.FusedMultiplyAdd(a[k], T.Load1(b, k * ldb + n), s);
                c[n] = p.Accumulate ? c[n] + p.Alpha * s : p.Alpha * s;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVector(float* c, Vector256<float> v, bool accumulate) =>
        (accumulate ? Vector256.Load(c) + v : v).Store(c);
}
