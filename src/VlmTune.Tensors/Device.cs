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

    /// <summary>
    /// The activation dtype a model computes in when the user leaves it to the device ("auto"): bf16 on CUDA (the
    /// tensor cores' type; HF PEFT's mixed precision), f32 on the CPU (which has no faster bf16 path).
    /// </summary>
    public DType DefaultComputeDType => Kind == DeviceKind.Cuda ? DType.BF16 : DType.F32;

    public override string ToString() => Kind == DeviceKind.Cpu ? "cpu" : $"cuda:{Ordinal}";
}
