namespace VlmTune.Tensors;

public enum DeviceKind : byte { Cpu, Cuda }

/// <summary>
/// Where a tensor lives, and the backend that computes on it. Every tensor names its device; ops refuse
/// to mix devices. Devices are created by their backend assembly (e.g. <c>CpuBackend.Device</c>), so the core
/// engine needs no registry and no reflection.
/// </summary>
public sealed class Device
{
    public DeviceKind Kind { get; }
    public int Ordinal { get; }
    public IBackend Backend { get; }

    public Device(DeviceKind kind, int ordinal, IBackend backend)
    {
        Kind = kind;
        Ordinal = ordinal;
        Backend = backend;
    }

    public override string ToString() => Kind == DeviceKind.Cpu ? "cpu" : $"cuda:{Ordinal}";
}
