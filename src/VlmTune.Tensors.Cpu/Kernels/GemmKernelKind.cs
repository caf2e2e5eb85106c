namespace VlmTune.Tensors.Cpu.Kernels;

/// <summary>Which micro-kernel computes the 6×width tiles (chosen once per process, see GemmKernelSelection).</summary>
internal enum GemmKernelKind
{
    /// <summary>Portable scalar loops, 6×16 tiles: no FMA / AVX2 on this machine.</summary>
    Scalar,

    /// <summary>6×16 tiles in 12 Vector256 accumulators with FMA.</summary>
    Vector256,

    /// <summary>6×32 tiles in 12 Vector512 accumulators with FMA (only where it measured faster).</summary>
    Vector512,
}
