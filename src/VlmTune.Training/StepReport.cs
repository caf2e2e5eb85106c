namespace VlmTune.Training;

/// <summary>
/// One optimiser step's numbers (also one line of metrics.jsonl). <see cref="PeakMemoryMb"/> is the process's peak
/// resident set so far (<see cref="PeakRssMb"/>); <see cref="DevicePeakMb"/> / <see cref="DeviceReservedMb"/> are the device allocator's peak bytes in use (since
/// the run started) and bytes reserved now, for backends that implement <see cref="VlmTune.Tensors.IDeviceMemory"/>
/// (null on the CPU).
/// </summary>
public sealed record StepReport(int Step, int TotalSteps, double Loss, double Lr, double GradNorm, double TokensPerSecond,
    long SupervisedTokens, double PeakMemoryMb, double Seconds, double? DevicePeakMb = null, double? DeviceReservedMb = null)
{
    /// <summary>
    /// The process's peak resident set since it started, in MB (Linux: VmHWM in /proc/self/status; .NET reads the
    /// platform's peak working set elsewhere) — not the current working set, which hides the step's high-water mark.
    /// </summary>
    public static double PeakRssMb()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.PeakWorkingSet64 / 1e6;
    }

    /// <summary>(peak in use, reserved) in MB (10^6 bytes) when <paramref name="device"/>'s backend tracks device memory.</summary>
    public static (double? PeakMb, double? ReservedMb) DeviceMemory(VlmTune.Tensors.Device device) =>
        device.Backend is VlmTune.Tensors.IDeviceMemory m ? (m.PeakAllocatedBytes / 1e6, m.ReservedBytes / 1e6) : (null, null);
}

/// <summary>An evaluation pass: mean token loss and next-token accuracy on supervised positions.</summary>
public sealed record EvalReport(int Step, double Loss, double TokenAccuracy, long Tokens);
