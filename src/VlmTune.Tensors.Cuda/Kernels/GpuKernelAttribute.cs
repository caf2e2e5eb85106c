namespace VlmTune.Tensors.Cuda.Kernels;

/// <summary>How a kernel method is launched (ILGPU entry-point kind).</summary>
public enum KernelGrouping : byte
{
    /// <summary>First parameter is Index1D/2D/3D; ILGPU chooses the groups (no shared memory, no barriers).</summary>
    Implicit,
    /// <summary>Launched with an explicit <c>KernelConfig</c> (grid × group); may use shared memory, barriers, warps.</summary>
    Explicit,
}

/// <summary>
/// Marks a static method as a device kernel. <see cref="KernelCatalog"/> enumerates these, and the PTX gate compiles
/// every one for sm_90 and assembles it with ptxas; <see cref="NoSpill"/> kernels fail the gate on any register spill.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class GpuKernelAttribute(KernelGrouping grouping) : Attribute
{
    public KernelGrouping Grouping { get; } = grouping;
    /// <summary>Hot kernels (GEMM, attention, dequantise): a spill is a failure, not a warning.</summary>
    public bool NoSpill { get; init; }
}
