using ILGPU;
using ILGPU.Runtime;

namespace VlmTune.Tensors.Cuda;

/// <summary>
/// A device buffer block rented from the backend's <see cref="DeviceAllocator"/>. Dispose (or the finalizer, for a
/// tensor that was simply dropped) returns the block to the allocator's cache, never to the driver.
/// </summary>
public sealed class CudaStorage : Storage
{
    MemoryBuffer1D<byte, Stride1D.Dense>? _buffer;
    readonly DeviceAllocator _allocator;
    readonly Device _device;
    readonly long _length;

    internal CudaStorage(Device device, DeviceAllocator allocator, long bytes)
    {
        _device = device;
        _allocator = allocator;
        _length = bytes;
        _buffer = allocator.Rent(bytes);
    }

    public override Device Device => _device;
    public override long ByteLength => _length;

    /// <summary>The whole block as bytes (may be longer than <see cref="ByteLength"/>: the bucket size).</summary>
    public ArrayView<byte> View => (_buffer ?? throw new ObjectDisposedException(nameof(CudaStorage))).View;

    /// <summary>Device address of byte 0 (for cuBLAS); valid only on a real GPU.</summary>
    public nint NativePtr => (_buffer ?? throw new ObjectDisposedException(nameof(CudaStorage))).NativePtr;

    ~CudaStorage() => Release();

    public override void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    void Release()
    {
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b != null) _allocator.Return(b);
    }
}
