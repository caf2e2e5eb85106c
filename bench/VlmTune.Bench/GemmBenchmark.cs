using System.Diagnostics;
using System.Runtime.InteropServices;
using VlmTune.Tensors.Cpu.Kernels;

namespace VlmTune.Bench;

// The forward of a linear layer, Y = X·Wᵀ: X (M,K) f32, W (N,K) f32 or bf16, Y (M,N). M = 2048 tokens;
// (N,K) are SmolVLM-256M text shapes: q/o-proj (576,576), up/gate (1536,576), down (576,1536), lm_head (49280,576).

/// <summary>The `gemm` verb: our Gemm (f32 and bf16-B) against OpenBLAS cblas_sgemm, same threads, interleaved.</summary>
public static unsafe class GemmBenchmark
{
    private const int M = 2048;
    private static readonly (int N, int K)[] s_shapes = [(576, 576), (1536, 576), (576, 1536), (49280, 576)];

    public static int Run(GemmBenchmarkOptions options)
    {
        OpenBlas? blas = OpenBlas.TryLoad();
        blas?.SetNumThreads(options.Threads);
        Console.Error.WriteLine($"# threads={options.Threads} reps={options.Reps} " +
            $"kernel={Gemm.KernelName} " +
            $"openblas={(blas is null ? "missing (apt-get install -y libopenblas0-pthread)" : $"loaded core={blas.CoreName()}")}");
        foreach ((int n, int k) in s_shapes) RunShape(n, k, options, blas);
        return 0;
    }

    private static void RunShape(int N, int K, GemmBenchmarkOptions options, OpenBlas? blas)
    {
        // SAFETY: every buffer below is allocated with exactly the extent the GEMM calls and loops use, and
        // freed in the finally block after the last use.
        float* x = Alloc<float>((long)M * K);
        float* w = Alloc<float>((long)N * K);
        ushort* wh = Alloc<ushort>((long)N * K);
        float* ours = Alloc<float>((long)M * N);
        float* theirs = Alloc<float>((long)M * N);
        try
        {
            var rng = new Random(1234);
            Fill(x, (long)M * K, rng);
            Fill(w, (long)N * K, rng);
            for (long i = 0; i < (long)N * K; i++) wh[i] = RoundToBf16(w[i]);

            int threads = options.Threads;
            Action f32 = () => Gemm.F32(false, true, M, N, K, 1f, x, K, w, K, ours, N, false, threads);
            Action bf16 = () => Gemm.F32Bf16B(false, true, M, N, K, 1f, x, K, wh, K, ours, N, false, threads);
            Action? reference = blas is null ? null : () => blas.Sgemm(false, true, M, N, K, 1f, x, K, w, K, 0f, theirs, N);

            // Warm-up (at least 3 calls and 0.5 s each): JIT tiering, OpenBLAS thread start-up, first touch of C.
            WarmUp(f32);
            WarmUp(bf16);
            if (reference is not null) WarmUp(reference);
            if (reference is not null)
            {
                f32();
                Console.Error.WriteLine($"# N={N} K={K} max|ours-openblas|/max|openblas| = {RelativeDifference(ours, theirs, (long)M * N):E2}");
            }

            var timesF32 = new double[options.Reps];
            var timesBf16 = new double[options.Reps];
            var timesBlas = new double[options.Reps];
            for (int r = 0; r < options.Reps; r++) // interleaved so machine noise hits all three alike
            {
                timesF32[r] = Seconds(f32);
                timesBf16[r] = Seconds(bf16);
                if (reference is not null) timesBlas[r] = Seconds(reference);
            }

            double flops = 2.0 * M * N * K;
            double? blasGflops = reference is null ? null : flops / Median(timesBlas) / 1e9;
            Console.Error.WriteLine($"# N={N} K={K} best-rep gflops: ours={flops / timesF32.Min() / 1e9:F1} " +
                $"ours-bf16={flops / timesBf16.Min() / 1e9:F1} openblas={(reference is null ? "n/a" : $"{flops / timesBlas.Min() / 1e9:F1}")}");
            Print("gemm", N, K, flops / Median(timesF32) / 1e9, blasGflops);
            Print("gemm-bf16", N, K, flops / Median(timesBf16) / 1e9, blasGflops);
        }
        finally
        {
            NativeMemory.AlignedFree(x);
            NativeMemory.AlignedFree(w);
            NativeMemory.AlignedFree(wh);
            NativeMemory.AlignedFree(ours);
            NativeMemory.AlignedFree(theirs);
        }
    }

    private static void Print(string label, int N, int K, double gflops, double? blasGflops)
    {
        string blas = blasGflops is double b ? $"openblas_gflops={b:F1} ratio={gflops / b:F2}" : "openblas_gflops=n/a ratio=n/a";
        Console.WriteLine($"{label} M={M} N={N} K={K} gflops={gflops:F1} {blas}");
        Console.Out.Flush();
    }

    private static void WarmUp(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < 3 || Stopwatch.GetElapsedTime(start).TotalSeconds < 0.5; i++) action();
    }

    private static double Seconds(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
    }

    private static double RelativeDifference(float* a, float* b, long count)
    {
        // SAFETY: a and b hold count floats each (the two M×N results).
        double maxDiff = 0, maxAbs = 0;
        for (long i = 0; i < count; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)a[i] - b[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs((double)b[i]));
        }
        return maxAbs == 0 ? maxDiff : maxDiff / maxAbs;
    }

    /// <summary>f32 → bf16 with round-to-nearest-even (finite inputs only, as here).</summary>
    private static ushort RoundToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    private static void Fill(float* data, long count, Random rng)
    {
        // SAFETY: data holds count floats.
        for (long i = 0; i < count; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
    }

    private static T* Alloc<T>(long count) where T : unmanaged =>
        (T*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(T)), 64);
}
