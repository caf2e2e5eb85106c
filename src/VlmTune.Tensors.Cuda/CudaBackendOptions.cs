namespace VlmTune.Tensors.Cuda;

/// <summary>How to create a <see cref="CudaBackend"/>.</summary>
public sealed record CudaBackendOptions
{
    /// <summary>Run the same backend on ILGPU's CPU accelerator instead of a GPU (tests; <c>VLMTUNE_CUDA_SIMULATE=1</c>).</summary>
    public bool Simulate { get; init; }
    /// <summary>GPU ordinal (cuda:N).</summary>
    public int Ordinal { get; init; }
    /// <summary>
    /// Simulation only: threads per warp. ILGPU's CPU accelerator runs one OS thread per simulated thread, so every
    /// barrier or shuffle costs a round of context switches: at 32 threads a barrier costs ~0.3 ms, at 4 ~17 µs
    /// (measured here). Kernels are written for any power-of-two warp width (they read <c>Warp.WarpSize</c>), so a
    /// narrow simulated warp exercises the same code paths; a few tests also run at 32.
    /// </summary>
    public int SimulatedWarpSize { get; init; } = 4;
    /// <summary>Simulation only: warps per group (groups of WarpSize × this threads).</summary>
    public int SimulatedWarpsPerGroup { get; init; } = 2;
    /// <summary>Simulation only: at most this many groups per launch (kernels are grid-stride loops).</summary>
    public int SimulatedMaxGroups { get; init; } = 2;
    /// <summary>Force a collection after this many bytes of new device allocations (see <see cref="DeviceAllocator"/>).</summary>
    public long CollectEveryBytes { get; init; } = 1L << 30;
    /// <summary>Receives one-line diagnostics (libraries loaded, device chosen).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>True when <c>VLMTUNE_CUDA_SIMULATE</c> is 1/true/yes.</summary>
    public static bool SimulateFromEnvironment =>
        Environment.GetEnvironmentVariable("VLMTUNE_CUDA_SIMULATE")?.Trim().ToLowerInvariant() is "1" or "true" or "yes";
}
