using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VlmTune.Tensors.Cpu.Kernels;

/// <summary>
/// Picks the micro-kernel once per process. Vector512 only where it measurably wins: on some AVX-512 CPUs
/// 512-bit FMAs are double-pumped (engine.md §3 measured Vector256 ahead), on others they run at full width
/// (this 2-core EPYC with 48 KiB L1d: 230 vs 108 GFLOP/s per core for the L1-resident tile). So when both can
/// run, both are timed on an L1-resident tile (about 3 ms) and Vector512 is used if it is 1.2× faster.
/// VLMTUNE_GEMM_KERNEL=scalar|vector256|vector512 overrides the choice when this machine supports that kernel.
/// </summary>
internal static unsafe class GemmKernelSelection
{
    private const string OverrideVariable = "VLMTUNE_GEMM_KERNEL";
    private const double RequiredSpeedup = 1.2;

    public static bool Vector256Supported => Vector256.IsHardwareAccelerated && Fma.IsSupported && Avx2.IsSupported;

    public static bool Vector512Supported =>
        Vector256Supported && Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    public static GemmKernelKind Select()
    {
        GemmKernelKind? forced = Environment.GetEnvironmentVariable(OverrideVariable)?.Trim().ToLowerInvariant() switch
        {
            "scalar" => GemmKernelKind.Scalar,
            "vector256" when Vector256Supported => GemmKernelKind.Vector256,
            "vector512" when Vector512Supported => GemmKernelKind.Vector512,
            _ => null,
        };
        if (forced is GemmKernelKind kind) return kind;
        if (!Vector256Supported) return GemmKernelKind.Scalar;
        if (!Vector512Supported) return GemmKernelKind.Vector256;
        double rate256 = MeasureGflops(GemmKernelKind.Vector256);
        double rate512 = MeasureGflops(GemmKernelKind.Vector512);
        return rate512 >= RequiredSpeedup * rate256 ? GemmKernelKind.Vector512 : GemmKernelKind.Vector256;
    }

    /// <summary>Best-of-5 rate of one kernel on a 6×w tile with kc = 256, all operands in L1.</summary>
    private static double MeasureGflops(GemmKernelKind kind)
    {
        const int kc = 256, tilesPerBatch = 200;
        int width = GemmMicroKernel.Width(kind);
        float* a = (float*)NativeMemory.AlignedAlloc((nuint)(GemmBlocking.MR * kc * sizeof(float)), 64);
        float* b = (float*)NativeMemory.AlignedAlloc((nuint)(width * kc * sizeof(float)), 64);
        float* c = (float*)NativeMemory.AlignedAlloc((nuint)(GemmBlocking.MR * width * sizeof(float)), 64);
        try
        {
            // SAFETY: a, b, c are freshly allocated with exactly the extents the kernel reads and writes (ldc = w).
            new Span<float>(a, GemmBlocking.MR * kc).Fill(1e-3f);
            new Span<float>(b, width * kc).Fill(1e-3f);
            for (int i = 0; i < 20; i++) GemmMicroKernel.Tile(kind, kc, a, b, c, width, addC: false);
            double best = double.MaxValue;
            for (int batch = 0; batch < 5; batch++)
            {
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < tilesPerBatch; i++) GemmMicroKernel.Tile(kind, kc, a, b, c, width, addC: true);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
            return 2.0 * GemmBlocking.MR * width * kc * tilesPerBatch / Math.Max(best, 1e-9) / 1e9;
        }
        finally
        {
            NativeMemory.AlignedFree(a);
            NativeMemory.AlignedFree(b);
            NativeMemory.AlignedFree(c);
        }
    }
}
