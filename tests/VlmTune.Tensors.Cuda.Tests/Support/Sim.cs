using VlmTune.Tensors.Cpu;

namespace VlmTune.Tensors.Cuda.Tests.Support;

/// <summary>
/// The simulated CUDA device shared by all tests of this assembly (ILGPU's CPU accelerator, warp 4; creating it and
/// compiling kernels is the slow part, so there is one per process). <see cref="Wide"/> is a second one at warp 32 for
/// the few tests that check kernels at the real GPU's warp width.
/// </summary>
public static class Sim
{
    /// <summary>
    /// <c>VLMTUNE_CUDA_TEST_DEVICE=gpu</c>: <see cref="Device"/>, <see cref="Wide"/> and <see cref="Backend"/> are all one
    /// real-GPU backend (ordinal 0) instead of the simulator, so the same parity tests run on a GPU (bench/VlmTune.GpuCheck).
    /// </summary>
    public static bool OnGpu { get; } =
        Environment.GetEnvironmentVariable("VLMTUNE_CUDA_TEST_DEVICE")?.Trim().ToLowerInvariant() is "gpu" or "cuda";

    /// <summary>Receives the GPU backend's one-line diagnostics (libraries loaded, device chosen) when <see cref="OnGpu"/>.</summary>
    public static Action<string>? GpuLog { get; set; }

    static readonly Lazy<CudaBackend> _gpu = new(() => CudaBackend.Create(new CudaBackendOptions { Ordinal = 0, Log = GpuLog }));
    static readonly Lazy<CudaBackend> _backend = new(() => OnGpu ? _gpu.Value : CudaBackend.Create(new CudaBackendOptions { Simulate = true }));
    static readonly Lazy<CudaBackend> _wide = new(() => OnGpu ? _gpu.Value : CudaBackend.Create(new CudaBackendOptions
    {
        Simulate = true, SimulatedWarpSize = 32, SimulatedWarpsPerGroup = 2, SimulatedMaxGroups = 2,
    }));

    public static CudaBackend Backend => _backend.Value;
    public static Device Device => _backend.Value.AsDevice();
    public static Device Wide => _wide.Value.AsDevice();
    public static Device Cpu => CpuBackend.Device;

    /// <summary>The same values on another device (same shape and dtype, contiguous).</summary>
    public static Tensor To(this Tensor t, Device device)
    {
        var c = VlmTune.Tensors.Ops.Contiguous(t);
        return VlmTune.Tensors.Ops.FromBytes(c.ToBytes(), c.Shape, c.DType, device);
    }

    /// <summary>Seeded f32 normal values on the CPU.</summary>
    public static Tensor Rand(ulong seed, params int[] shape) => VlmTune.Tensors.Ops.RandomNormal(new Shape(shape), seed, Cpu);
}
