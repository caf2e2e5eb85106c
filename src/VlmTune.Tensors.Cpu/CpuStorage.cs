using System.Runtime.CompilerServices;

namespace VlmTune.Tensors.Cpu;

/// <summary>
/// A CPU buffer: a pinned (pinned-object-heap) byte array, so kernels take raw pointers without fixing.
/// Dispose hands the array to the backend's <see cref="CpuBufferPool"/> (or drops it) at once; otherwise the GC
/// reclaims it. A disposed storage throws on every access.
/// </summary>
public sealed unsafe class CpuStorage : Storage
{
    byte[]? _data;
    readonly long _length;
    readonly Device _device;
    readonly CpuBufferPool? _pool;

    internal CpuStorage(Device device, long bytes, bool zeroed, CpuBufferPool? pool = null)
    {
        if (bytes > Array.MaxLength) throw new OutOfMemoryException($"a CPU tensor of {bytes} bytes exceeds the 2 GiB array limit");
        _device = device;
        _length = bytes;
        _pool = pool;
        int length = (int)Math.Max(bytes, 1);
        byte[]? reused = pool?.Take(length);
        if (reused != null)
        {
            if (zeroed) Array.Clear(reused);
            _data = reused;
        }
        else
        {
            _data = zeroed
                ? GC.AllocateArray<byte>(length, pinned: true)
                : GC.AllocateUninitializedArray<byte>(length, pinned: true);
        }
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

    public override void Dispose()
    {
        var data = _data;
        _data = null;
        if (data != null) _pool?.Give(data);
    }
}
