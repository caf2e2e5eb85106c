namespace VlmTune.Training;

/// <summary>
/// One optimiser step's numbers (also one line of metrics.jsonl). <see cref="PeakMemoryMb"/> is the process's working
/// set; <see cref="DevicePeakMb"/> / <see cref="DeviceReservedMb"/> are the device allocator's peak bytes in use (since
/// the run started) and bytes reserved now, for backends that implement <see cref="VlmTune.Tensors.IDeviceMemory"/>
/// (null on the CPU).
/// </summary>
public sealed record StepReport(int Step, int TotalSteps, double Loss, double Lr, double GradNorm, double TokensPerSecond,
    long SupervisedTokens, double PeakMemoryMb, double Seconds, double? DevicePeakMb = null, double? DeviceReservedMb = null)
{
    /// <summary>(peak in use, reserved) in MB (10^6 bytes) when <paramref name="device"/>'s backend tracks device memory.</summary>
    public static (double? PeakMb, double? ReservedMb) DeviceMemory(VlmTune.Tensors.Device device) =>
        device.Backend is VlmTune.Tensors.IDeviceMemory m ? (m.PeakAllocatedBytes / 1e6, m.ReservedBytes / 1e6) : (null, null);
}

/// <summary>An evaluation pass: mean token loss and next-token accuracy on supervised positions.</summary>
public sealed record EvalReport(int Step, double Loss, double TokenAccuracy, long Tokens);
