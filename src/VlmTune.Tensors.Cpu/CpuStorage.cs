using System.Runtime.CompilerServices;

namespace VlmTune.Tensors.Cpu;

/// <summary>
/// A CPU buffer: a pinned (pinned-object-heap) byte array, so kernels take raw pointers without fixing.
/// Dispose drops the array early; otherwise the GC reclaims it.
/// </summary>
public sealed unsafe class CpuStorage : Storage
{
    byte[]? _data;
    readonly long _length;
    readonly Device _device;

    internal CpuStorage(Device device, long bytes, bool zeroed)
    {
        if (bytes > Array.MaxLength) throw new OutOfMemoryException($"a CPU tensor of {bytes} bytes exceeds the 2 GiB array limit");
        _device = device;
        _length = bytes;
        _data = zeroed
            ? GC.AllocateArray<byte>((int)Math.Max(bytes, 1), pinned: true)
            : GC.AllocateUninitializedArray<byte>((int)Math.Max(bytes, 1), pinned: true);
    }

    public override Device Device => _device;
    public override long ByteLength => _length;

    /// <summary>Start of the buffer. SAFETY: the array is pinned for its lifetime, so the address is stable.</summary>
    public byte* Pointer
    {
        get
        {
            var d = _data ?? throw new ObjectDisposedException(nameof(CpuStorage));
            return (byte*)Unsafe.AsPointer(ref d[0]);
        }
    }

    public Span<byte> Span => (_data ?? throw new ObjectDisposedException(nameof(CpuStorage))).AsSpan(0, (int)_length);

    public override void Dispose() => _data = null;
}
