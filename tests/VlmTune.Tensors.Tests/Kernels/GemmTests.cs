using System.Runtime.InteropServices;
using VlmTune.Tensors.Cpu.Kernels;

namespace VlmTune.Tensors.Tests.Kernels;

// Gemm (blocked, threaded, SIMD) against GemmReference (naive, double accumulation).
// Tolerance per element: 1e-5 · sqrt(K) · (|alpha|·Σ_k |a·b| + |C_before|), i.e. relative to the magnitude
// of the terms that were summed, so cancellation in the result does not make the check flaky.
public sealed unsafe class GemmTests
{
    private const float PadSentinel = 12345.5f;

    public static TheoryData<bool, bool, bool, int> Variants()
    {
        var data = new TheoryData<bool, bool, bool, int>();
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
                foreach (bool bf16 in new[] { false, true })
                    foreach (int threads in new[] { 1, 2 })
                        data.Add(transA, transB, bf16, threads);
        return data;
    }

    // (M, N, K): tiny, odd, every block edge (M > MC, N > NC, K > KC), decode-like M = 1 with wide N.
    private static readonly (int M, int N, int K)[] s_shapes =
    [
        (1, 1, 1), (7, 13, 5), (65, 129, 257), (1, 3000, 600), (130, 530, 270),
    ];

    [Theory]
    [MemberData(nameof(Variants))]
    public void Matches_reference_on_awkward_shapes(bool transA, bool transB, bool bf16, int threads)
    {
        int seed = 1;
        foreach ((int m, int n, int k) in s_shapes)
        {
            // Overwrite with alpha = 1, then accumulate with alpha ≠ 1; leading dims padded on the second run.
            var plain = new Case(transA, transB, m, n, k, bf16, alpha: 1f, accumulate: false, pad: 0, seed++);
            plain.CheckAgainstReference(threads);
            var padded = new Case(transA, transB, m, n, k, bf16, alpha: -0.75f, accumulate: true, pad: 3, seed++);
            padded.CheckAgainstReference(threads);
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Thread_count_does_not_change_the_result_bitwise(bool transA, bool bf16)
    {
        var one = new Case(transA, true, 130, 530, 270, bf16, 0.5f, accumulate: true, pad: 1, seed: 42);
        var two = new Case(transA, true, 130, 530, 270, bf16, 0.5f, accumulate: true, pad: 1, seed: 42);
        var three = new Case(transA, true, 130, 530, 270, bf16, 0.5f, accumulate: true, pad: 1, seed: 42);
        one.RunGemm(1);
        two.RunGemm(2);
        three.RunGemm(3);
        Assert.Equal(one.C, two.C);
        Assert.Equal(one.C, three.C);
    }

    // GemmSmallM (M ≤ 8, A not transposed): every row count, B's row groups of 4 and column groups of 32 with their
    // tails, K below, at and past the 8/16-wide vector steps.
    private static readonly (int N, int K)[] s_smallMShapes = [(1, 1), (3, 7), (4, 8), (7, 23), (33, 16), (70, 64), (9, 48), (300, 600)];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Small_m_path_matches_reference_on_every_row_count_and_tail(bool bf16)
    {
        int seed = 200;
        var kinds = new List<GemmKernelKind>();
        if (GemmKernelSelection.Vector256Supported) kinds.Add(GemmKernelKind.Vector256);
        if (GemmKernelSelection.Vector512Supported) kinds.Add(GemmKernelKind.Vector512);
        foreach (var kind in kinds)
            WithKernel(kind, () =>    // Vector256: the 8-wide loops; Vector512: NT's 16-wide Nt512
            {
                for (int m = 1; m <= 8; m++)
                    foreach (bool transB in new[] { true, false })
                        foreach ((int n, int k) in s_smallMShapes)
                        {
                            bool odd = (seed & 1) == 1;
                            new Case(false, transB, m, n, k, bf16, odd ? -0.75f : 1f, accumulate: odd, pad: odd ? 3 : 0, seed++)
                                .CheckAgainstReference(odd ? 2 : 1);
                        }
            });
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Small_m_thread_count_does_not_change_the_result_bitwise(bool transB, bool bf16)
    {
        // N·K above the small-M path's threading threshold, so 2 and 3 threads really split N.
        var one = new Case(false, transB, 3, 1001, 600, bf16, 0.5f, accumulate: true, pad: 1, seed: 43);
        var two = new Case(false, transB, 3, 1001, 600, bf16, 0.5f, accumulate: true, pad: 1, seed: 43);
        var three = new Case(false, transB, 3, 1001, 600, bf16, 0.5f, accumulate: true, pad: 1, seed: 43);
        one.RunGemm(1);
        two.RunGemm(2);
        three.RunGemm(3);
        Assert.Equal(one.C, two.C);
        Assert.Equal(one.C, three.C);
        new Case(false, transB, 3, 1001, 600, bf16, 0.5f, accumulate: true, pad: 1, seed: 43).CheckAgainstReference(2);
    }

    public static TheoryData<int> KernelKinds()
    {
        var data = new TheoryData<int> { (int)GemmKernelKind.Scalar };
        if (GemmKernelSelection.Vector256Supported) data.Add((int)GemmKernelKind.Vector256);
        if (GemmKernelSelection.Vector512Supported) data.Add((int)GemmKernelKind.Vector512);
        return data;
    }

    [Theory]
    [MemberData(nameof(KernelKinds))]
    public void Every_kernel_this_machine_runs_matches_reference(int kind)
    {
        WithKernel((GemmKernelKind)kind, () =>
        {
            int seed = 100;
            foreach (bool bf16 in new[] { false, true })
            {
                new Case(false, true, 65, 129, 257, bf16, 1f, accumulate: false, pad: 2, seed++).CheckAgainstReference(2);
                new Case(true, false, 7, 13, 5, bf16, 2f, accumulate: true, pad: 0, seed++).CheckAgainstReference(1);
                new Case(true, true, 1, 3000, 600, bf16, 0.5f, accumulate: true, pad: 1, seed++).CheckAgainstReference(2);
                new Case(false, false, 130, 530, 270, bf16, -1f, accumulate: false, pad: 0, seed++).CheckAgainstReference(2);
            }
        });
    }

    [Fact]
    public void Vector256_and_Vector512_kernels_agree_bitwise()
    {
        if (!GemmKernelSelection.Vector512Supported) return; // nothing to compare on this machine
        var narrow = new Case(false, true, 130, 530, 270, false, 0.5f, accumulate: true, pad: 1, seed: 5);
        var wide = new Case(false, true, 130, 530, 270, false, 0.5f, accumulate: true, pad: 1, seed: 5);
        WithKernel(GemmKernelKind.Vector256, () => narrow.RunGemm(2));
        WithKernel(GemmKernelKind.Vector512, () => wide.RunGemm(2));
        Assert.Equal(narrow.C, wide.C);
    }

    private static void WithKernel(GemmKernelKind kind, Action action)
    {
        GemmKernelKind saved = GemmMicroKernel.Kind;
        try
        {
            GemmMicroKernel.Kind = kind;
            action();
        }
        finally
        {
            GemmMicroKernel.Kind = saved;
        }
    }

    [Fact]
    public void More_threads_than_work_still_matches_reference()
    {
        new Case(false, true, 1, 40, 3000, false, 1f, accumulate: false, pad: 0, seed: 9).CheckAgainstReference(3);
        new Case(true, false, 65, 129, 257, true, 1f, accumulate: true, pad: 1, seed: 10).CheckAgainstReference(3);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void K_zero_clears_or_keeps_C(bool accumulate)
    {
        var c = new[] { 1f, 2f, 3f, PadSentinel, 4f, 5f, 6f, PadSentinel };
        fixed (float* pc = c)
        {
            Gemm.F32(false, false, 2, 3, 0, 1f, null, 0, null, 3, pc, 4, accumulate, threads: 2);
        }
        float[] expected = accumulate
            ? [1f, 2f, 3f, PadSentinel, 4f, 5f, 6f, PadSentinel]
            : [0f, 0f, 0f, PadSentinel, 0f, 0f, 0f, PadSentinel];
        Assert.Equal(expected, c);
    }

    [Fact]
    public void Empty_M_or_N_is_a_no_op()
    {
        Gemm.F32(false, false, 0, 5, 3, 1f, null, 3, null, 5, null, 5, false, 2);
        Gemm.F32Bf16B(false, false, 4, 0, 3, 1f, null, 3, null, 0, null, 0, false, 2);
    }

    [Fact]
    public void Bad_arguments_throw_typed_errors_naming_the_argument()
    {
        // A plain native buffer: lambdas cannot capture fixed locals.
        float* p = (float*)NativeMemory.AllocZeroed(64 * sizeof(float));
        try
        {
            nint q = (nint)p;
            var lda = Assert.Throws<ArgumentOutOfRangeException>(() => F32(2, 2, 4, q, lda: 3, ldb: 2, transB: false));
            Assert.Equal("lda", lda.ParamName);
            Assert.Contains("K = 4", lda.Message);
            var ldb = Assert.Throws<ArgumentOutOfRangeException>(() => F32(2, 2, 4, q, lda: 4, ldb: 2, transB: true));
            Assert.Equal("ldb", ldb.ParamName);
            var threads = Assert.Throws<ArgumentOutOfRangeException>(() => F32(2, 2, 2, q, 2, 2, false, threads: 0));
            Assert.Equal("threads", threads.ParamName);
            var m = Assert.Throws<ArgumentOutOfRangeException>(() => F32(-1, 2, 2, q, 2, 2, false));
            Assert.Equal("M", m.ParamName);
            var nullA = Assert.Throws<ArgumentNullException>(() => Gemm.F32(false, false, 2, 2, 2, 1f, null, 2, (float*)q, 2, (float*)q, 2, false, 1));
            Assert.Equal("A", nullA.ParamName);
            var nullB = Assert.Throws<ArgumentNullException>(() => Gemm.F32Bf16B(false, false, 2, 2, 2, 1f, (float*)q, 2, null, 2, (float*)q, 2, false, 1));
            Assert.Equal("B", nullB.ParamName);
        }
        finally
        {
            NativeMemory.Free(p);
        }
    }

    private static void F32(int m, int n, int k, nint buffer, int lda, int ldb, bool transB, int threads = 1) =>
        Gemm.F32(false, transB, m, n, k, 1f, (float*)buffer, lda, (float*)buffer, ldb, (float*)buffer, n, false, threads);

    /// <summary>One GEMM with random operands in stored layout, C pre-filled, row padding set to a sentinel.</summary>
    private sealed class Case
    {
        private readonly bool _transA, _transB, _bf16, _accumulate;
        private readonly int _m, _n, _k, _lda, _ldb, _ldc;
        private readonly float _alpha;
        private readonly float[] _a, _b, _c0;
        private readonly ushort[] _bh;

        public float[] C { get; }

        public Case(bool transA, bool transB, int m, int n, int k, bool bf16, float alpha, bool accumulate, int pad, int seed)
        {
            (_transA, _transB, _m, _n, _k, _bf16, _alpha, _accumulate) = (transA, transB, m, n, k, bf16, alpha, accumulate);
            var rng = new Random(seed);
            _lda = (transA ? m : k) + pad;
            _ldb = (transB ? k : n) + pad;
            _ldc = n + pad;
            _a = Random(rng, (transA ? k : m) * _lda);
            _b = Random(rng, (transB ? n : k) * _ldb);
            _bh = new ushort[_b.Length];
            for (int i = 0; i < _b.Length; i++)
            {
                _bh[i] = (ushort)(BitConverter.SingleToUInt32Bits(_b[i]) >> 16); // truncate to bf16
                if (bf16) _b[i] = GemmReference.Bf16ToSingle(_bh[i]); // the f32 view the oracle uses
            }
            _c0 = new float[m * _ldc];
            for (int i = 0; i < _c0.Length; i++)
                _c0[i] = i % _ldc >= n ? PadSentinel : accumulate ? (float)(rng.NextDouble() * 2 - 1) : float.NaN;
            C = (float[])_c0.Clone();
        }

        public void RunGemm(int threads)
        {
            fixed (float* a = _a, b = _b, c = C)
            fixed (ushort* bh = _bh)
            {
                if (_bf16)
                    Gemm.F32Bf16B(_transA, _transB, _m, _n, _k, _alpha, a, _lda, bh, _ldb, c, _ldc, _accumulate, threads);
                else
                    Gemm.F32(_transA, _transB, _m, _n, _k, _alpha, a, _lda, b, _ldb, c, _ldc, _accumulate, threads);
            }
        }

        public void CheckAgainstReference(int threads)
        {
            RunGemm(threads);
            float[] expected = (float[])_c0.Clone();
            float[] magnitude = new float[_c0.Length];
            float[] absA = Array.ConvertAll(_a, MathF.Abs);
            float[] absB = Array.ConvertAll(_b, MathF.Abs);
            for (int i = 0; i < magnitude.Length; i++) magnitude[i] = _accumulate ? MathF.Abs(_c0[i]) : 0f;
            fixed (float* a = _a, b = _b, e = expected, aa = absA, ab = absB, mag = magnitude)
            fixed (ushort* bh = _bh)
            {
                if (_bf16)
                    GemmReference.F32Bf16B(_transA, _transB, _m, _n, _k, _alpha, a, _lda, bh, _ldb, e, _ldc, _accumulate);
                else
                    GemmReference.F32(_transA, _transB, _m, _n, _k, _alpha, a, _lda, b, _ldb, e, _ldc, _accumulate);
                GemmReference.F32(_transA, _transB, _m, _n, _k, MathF.Abs(_alpha), aa, _lda, ab, _ldb, mag, _ldc, true);
            }

            double tolerance = 1e-5 * Math.Sqrt(Math.Max(_k, 1));
            for (int i = 0; i < expected.Length; i++)
            {
                string where = $"{Describe(threads)}: C[{i / _ldc},{i % _ldc}]";
                if (i % _ldc >= _n)
                {
                    Assert.True(C[i] == PadSentinel, $"{where} is row padding and was overwritten with {C[i]}");
                    continue;
                }
                double error = Math.Abs((double)C[i] - expected[i]);
                Assert.True(error <= tolerance * magnitude[i] + 1e-30,
                    $"{where} = {C[i]}, reference {expected[i]}, |error| {error:E3} > {tolerance * magnitude[i]:E3}");
            }
        }

        private string Describe(int threads) =>
            $"{(_bf16 ? "F32Bf16B" : "F32")} transA={_transA} transB={_transB} M={_m} N={_n} K={_k} " +
            $"alpha={_alpha} accumulate={_accumulate} ldc={_ldc} threads={threads}";

        private static float[] Random(Random rng, int count)
        {
            var values = new float[Math.Max(count, 1)];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
            return values;
        }
    }
}
