using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using VlmTune.Tensors.Cpu.Kernels;

namespace VlmTune.Bench;

// The forward of a linear layer, Y = X·Wᵀ: X (M,K) f32, W (N,K) f32 or bf16, Y (M,N). (N,K) are SmolVLM-256M text
// shapes: q/o-proj (576,576), up/gate (1536,576), down (576,1536), lm_head (49280,576). `gemm`: M = 2048 tokens
// (training); `gemv`: M = 1, 4, 8 (decoding one sequence or a few), against cblas_sgemv for M = 1, cblas_sgemm else.

/// <summary>
/// The `gemm` / `gemv` verbs: our Gemm (f32 and bf16-B) against OpenBLAS, same threads, interleaved, each product
/// checked against OpenBLAS's result. OpenBLAS runs twice: as installed (this process, the environment as given —
/// these machines set OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE=512) and with its own core detection (a child
/// process of this one with both variables removed). Each configuration's ratio is measured side by side in its own
/// process; the closing `*-vs-best` lines give, per shape, the ratio against the faster OpenBLAS configuration.
/// </summary>
public static unsafe class GemmBenchmark
{
    private static readonly (int N, int K)[] s_shapes = [(576, 576), (1536, 576), (576, 1536), (49280, 576)];
    private static readonly int[] s_largeM = [2048];
    private static readonly int[] s_smallM = [1, 4, 8];

    /// <summary>One measured line: our kernel against one OpenBLAS configuration in the same process.</summary>
    private sealed record Result(string Label, string Config, string Core, int M, int N, int K, double Gflops, double? BlasGflops)
    {
        public double? Ratio => BlasGflops is double b ? Gflops / b : null;

        public override string ToString() =>
            $"{Label} config={Config} core={Core} M={M} N={N} K={K} gflops={F(Gflops)} " +
            $"openblas_gflops={(BlasGflops is double b ? F(b) : "n/a")} ratio={(Ratio is double r ? r.ToString("F2", CultureInfo.InvariantCulture) : "n/a")}";

        /// <summary>Parses <see cref="ToString"/>'s format (the child's stdout); null for other lines.</summary>
        public static Result? Parse(string line)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 9 || !parts[1].StartsWith("config=", StringComparison.Ordinal)) return null;
            var kv = parts.Skip(1).Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
            double? blas = kv["openblas_gflops"] == "n/a" ? null : double.Parse(kv["openblas_gflops"], CultureInfo.InvariantCulture);
            return new Result(parts[0], kv["config"], kv["core"], int.Parse(kv["M"]), int.Parse(kv["N"]), int.Parse(kv["K"]),
                double.Parse(kv["gflops"], CultureInfo.InvariantCulture), blas);
        }
    }

    private static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);

    public static int Run(GemmBenchmarkOptions options)
    {
        var results = Measure(options);
        if (options.Config == GemmBenchmarkOptions.Native) return 0; // the child: its lines are the parent's input
        var native = RunNativeChild(options);
        foreach (var group in results.Concat(native).Where(r => r.Ratio != null).GroupBy(r => (r.Label, r.M, r.N, r.K)))
        {
            var best = group.MaxBy(r => r.BlasGflops!.Value)!;        // the faster OpenBLAS configuration
            var ratios = string.Join(" ", group.Select(r => $"ratio_{r.Config}={r.Ratio!.Value.ToString("F2", CultureInfo.InvariantCulture)}"));
            Console.WriteLine($"{group.Key.Label}-vs-best M={group.Key.M} N={group.Key.N} K={group.Key.K} " +
                $"best=openblas-{best.Config}({best.Core}) openblas_gflops={F(best.BlasGflops!.Value)} gflops={F(best.Gflops)} " +
                $"ratio={best.Ratio!.Value.ToString("F2", CultureInfo.InvariantCulture)} {ratios}");
        }
        return 0;
    }

    /// <summary>This process's configuration: every shape, ours interleaved with OpenBLAS as this process loaded it.</summary>
    private static List<Result> Measure(GemmBenchmarkOptions options)
    {
        OpenBlas? blas = OpenBlas.TryLoad();
        blas?.SetNumThreads(options.Threads);
        string core = blas?.CoreName() ?? "missing";
        Console.Error.WriteLine($"# config={options.Config} {OpenBlas.OverrideSettings()} threads={options.Threads} reps={options.Reps} " +
            $"kernel={Gemm.KernelName} openblas={(blas is null ? "missing (apt-get install -y libopenblas0-pthread)" : $"loaded core={core}")}");
        var results = new List<Result>();
        foreach (int m in options.SmallM ? s_smallM : s_largeM)
            foreach ((int n, int k) in s_shapes)
                results.AddRange(RunShape(m, n, k, options, blas, core));
        return results;
    }

    /// <summary>Runs this verb again as a child with OpenBLAS's override variables removed; echoes and parses its lines.</summary>
    private static List<Result> RunNativeChild(GemmBenchmarkOptions options)
    {
        string exe = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this process's executable");
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") psi.ArgumentList.Add(typeof(GemmBenchmark).Assembly.Location);
        foreach (var arg in new[] { options.SmallM ? "gemv" : "gemm", "--threads", $"{options.Threads}", "--reps", $"{options.Reps}",
                     "--config", GemmBenchmarkOptions.Native })
            psi.ArgumentList.Add(arg);
        foreach (var variable in OpenBlas.OverrideVariables) psi.Environment.Remove(variable);
        using var child = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        var results = new List<Result>();
        while (child.StandardOutput.ReadLine() is { } line)
        {
            Console.WriteLine(line);
            Console.Out.Flush();
            if (Result.Parse(line) is { } r) results.Add(r);
        }
        child.WaitForExit();
        if (child.ExitCode != 0) Console.Error.WriteLine($"# the native-OpenBLAS child exited with {child.ExitCode}");
        return results;
    }

    private static List<Result> RunShape(int M, int N, int K, GemmBenchmarkOptions options, OpenBlas? blas, string core)
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
            Action? reference = blas is null ? null
                : M == 1 ? () => blas.Sgemv(N, K, 1f, w, K, x, 0f, theirs)
                : () => blas.Sgemm(false, true, M, N, K, 1f, x, K, w, K, 0f, theirs, N);
            string label = M == 1 ? "gemv" : M <= 8 ? "gemm-small" : "gemm";

            // Warm-up (at least 3 calls and 0.5 s each): JIT tiering, OpenBLAS thread start-up, first touch of C.
            // Small products repeat inside one timed rep so each rep lasts ≥ 20 ms.
            int itF32 = WarmUp(f32), itBf16 = WarmUp(bf16), itBlas = reference is null ? 0 : WarmUp(reference);
            if (reference is not null)
            {
                f32();
                Console.Error.WriteLine($"# config={options.Config} M={M} N={N} K={K} max|ours-openblas|/max|openblas| = {RelativeDifference(ours, theirs, (long)M * N):E2}");
            }

            var timesF32 = new double[options.Reps];
            var timesBf16 = new double[options.Reps];
            var timesBlas = new double[options.Reps];
            for (int r = 0; r < options.Reps; r++) // interleaved so machine noise hits all three alike
            {
                timesF32[r] = Seconds(f32, itF32);
                timesBf16[r] = Seconds(bf16, itBf16);
                if (reference is not null) timesBlas[r] = Seconds(reference, itBlas);
            }

            double flops = 2.0 * M * N * K;
            double? blasGflops = reference is null ? null : flops / Median(timesBlas) / 1e9;
            Console.Error.WriteLine($"# config={options.Config} M={M} N={N} K={K} best-rep gflops: ours={F(flops / timesF32.Min() / 1e9)} " +
                $"ours-bf16={F(flops / timesBf16.Min() / 1e9)} openblas={(reference is null ? "n/a" : F(flops / timesBlas.Min() / 1e9))}");
            var results = new List<Result>
            {
                new(label, options.Config, core, M, N, K, flops / Median(timesF32) / 1e9, blasGflops),
                new(label + "-bf16", options.Config, core, M, N, K, flops / Median(timesBf16) / 1e9, blasGflops),
            };
            foreach (var r in results) Console.WriteLine(r);
            Console.Out.Flush();
            return results;
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

    /// <summary>
    /// Idle time before each timed rep (<see cref="Seconds"/> sleeps it first). OpenBLAS's idle threads busy-wait for the next call for up to 2^28 cycles
    /// (its THREAD_TIMEOUT, ~0.1 s here) before they sleep, and ours poll for 200 µs; without a pause the rep after
    /// OpenBLAS's ran while its threads still spun on the second core (ours then measured 84–155 GFLOP/s on one shape
    /// from run to run, against 0.91–1.07 of OpenBLAS on one thread). Each rep now starts with every pool asleep and
    /// pays its own wake-up once.
    /// </summary>
    private const int QuietMilliseconds = 250;

    /// <summary>Warms the action up; returns how many calls make one timed rep of at least 20 ms.</summary>
    private static int WarmUp(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        int calls = 0;
        for (; calls < 3 || Stopwatch.GetElapsedTime(start).TotalSeconds < 0.5; calls++) action();
        double perCall = Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
        return (int)Math.Clamp(Math.Ceiling(0.02 / perCall), 1, 100_000);
    }

    /// <summary>Seconds per call, over <paramref name="calls"/> back-to-back calls after <see cref="QuietMilliseconds"/> idle.</summary>
    private static double Seconds(Action action, int calls)
    {
        Thread.Sleep(QuietMilliseconds);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++) action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
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
