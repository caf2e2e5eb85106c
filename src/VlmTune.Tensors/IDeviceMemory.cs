namespace VlmTune.Tensors;

/// <summary>
/// Implemented by backends that manage device memory themselves (CUDA's caching allocator): bytes in use by tensors,
/// reserved from the device (in use + cached for reuse), and the peak in use since <see cref="ResetPeakMemory"/>.
/// Trainers and benchmarks report these; the CPU backend does not implement it (use the process's peak RSS).
/// </summary>
public interface IDeviceMemory
{
    long AllocatedBytes { get; }
    long ReservedBytes { get; }
    long PeakAllocatedBytes { get; }
    void ResetPeakMemory();
}
