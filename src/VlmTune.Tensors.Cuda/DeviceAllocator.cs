using ILGPU;
using ILGPU.Runtime;

namespace VlmTune.Tensors.Cuda;

/// <summary>Bytes the caching allocator holds: in use by tensors, reserved from the device (in use + cached), peak in use.</summary>
public readonly record struct DeviceMemoryStats(long AllocatedBytes, long ReservedBytes, long PeakAllocatedBytes, long DeviceAllocations);

/// <summary>
/// A caching, size-bucketed device allocator (PyTorch's caching allocator in spirit): requests are rounded up to a
/// bucket (512 B steps up to 1 MiB, 2 MiB steps above), freed blocks go back to their bucket's free list and are reused
/// by later requests on the same stream — all work runs on one stream, so reuse in issue order is safe without events.
/// The device is asked for memory only on a miss. Tensor storages that are never disposed come back through their
/// finalizers; device memory is invisible to the GC, so after every <see cref="CollectEveryBytes"/> of new allocations
/// (and before giving up on an out-of-memory) the allocator runs a collection and drains the finalizer queue.
/// Thread-safe (finalizers return blocks from the finalizer thread).
/// </summary>
public sealed class DeviceAllocator : IDisposable
{
    readonly Accelerator _accelerator;
    readonly Dictionary<long, Stack<MemoryBuffer1D<byte, Stride1D.Dense>>> _free = new();
    // Every block taken from the device and not yet given back to it. ILGPU's buffers have finalizers of their own:
    // a dropped tensor's buffer would be finalized (its memory freed) in the same collection as its CudaStorage,
    // whose finalizer then returned the dead buffer to the cache. Holding every block here keeps them reachable.
    readonly HashSet<MemoryBuffer1D<byte, Stride1D.Dense>> _owned = new(ReferenceEqualityComparer.Instance);
    readonly object _lock = new();
    long _allocated, _reserved, _peak, _deviceAllocations, _sinceCollect;
    bool _disposed;

    public DeviceAllocator(Accelerator accelerator, long collectEveryBytes)
    {
        _accelerator = accelerator;
        CollectEveryBytes = collectEveryBytes;
    }

    /// <summary>New bytes handed out between forced collections (finalisation of dropped tensors).</summary>
    public long CollectEveryBytes { get; set; }

    public DeviceMemoryStats Stats
    {
        get { lock (_lock) return new(_allocated, _reserved, _peak, _deviceAllocations); }
    }

    /// <summary>Starts a new peak measurement at the current allocation.</summary>
    public void ResetPeak()
    {
        lock (_lock) _peak = _allocated;
    }

    public static long Bucket(long bytes)
    {
        bytes = Math.Max(bytes, 1);
        const long Small = 512, Large = 2L << 20;
        return bytes <= (1L << 20) ? (bytes + Small - 1) / Small * Small : (bytes + Large - 1) / Large * Large;
    }

    public MemoryBuffer1D<byte, Stride1D.Dense> Rent(long bytes)
    {
        long size = Bucket(bytes);
        bool collect;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_free.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                Account(size);
                return stack.Pop();
            }
            _sinceCollect += size;
            collect = _sinceCollect >= CollectEveryBytes;
            if (collect) _sinceCollect = 0;
        }
        if (collect)
        {
            DrainFinalizers();
            lock (_lock)
            {
                if (_free.TryGetValue(size, out var stack) && stack.Count > 0)
                {
                    Account(size);
                    return stack.Pop();
                }
            }
        }
        var buffer = AllocateFromDevice(size);
        lock (_lock)
        {
            _owned.Add(buffer);
            _reserved += size;
            _deviceAllocations++;
            Account(size);
            return buffer;
        }
    }


    public void Return(MemoryBuffer1D<byte, Stride1D.Dense> buffer)
    {
        lock (_lock)
        {
            if (_disposed) return;
            long size = buffer.Length;
            _allocated -= size;
            if (!_free.TryGetValue(size, out var stack)) _free[size] = stack = new();
            stack.Push(buffer);
        }
    }

    /// <summary>Gives every cached (free) block back to the device.</summary>
    public void ReleaseCached()
    {
        lock (_lock)
        {
            foreach (var stack in _free.Values)
                while (stack.Count > 0)
                {
                    var b = stack.Pop();
                    _reserved -= b.Length;
                    _owned.Remove(b);
                    b.Dispose();
                }
        }
    }

    void Account(long size)
    {
        _allocated += size;
        if (_allocated > _peak) _peak = _allocated;
    }

    MemoryBuffer1D<byte, Stride1D.Dense> AllocateFromDevice(long size)
    {
        try
        {
            return Owned(_accelerator.Allocate1D<byte>(size));
        }
        catch (Exception e) when (e is OutOfMemoryException || e.GetType().Name.Contains("OutOfMemory", StringComparison.Ordinal) || e is ILGPU.Runtime.Cuda.CudaException)
        {
            // Free what dropped tensors still hold, give the cache back, and try once more.
            DrainFinalizers();
            ReleaseCached();
            try
            {
                return Owned(_accelerator.Allocate1D<byte>(size));
            }
            catch (Exception again)
            {
                var s = Stats;
                throw new OutOfMemoryException(
                    $"device out of memory allocating {size / 1048576.0:F1} MiB on {_accelerator.Name} " +
                    $"(in use {s.AllocatedBytes / 1048576.0:F1} MiB, reserved {s.ReservedBytes / 1048576.0:F1} MiB)", again);
            }
        }
    }

    /// <summary>
    /// ILGPU buffers have finalizers that free the device memory. A dropped tensor's storage and its buffer become
    /// unreachable together, so both finalizers would run: the storage's puts the buffer back in the cache while the
    /// buffer's own frees it (a freed block handed out again). The allocator owns its blocks instead: they are freed
    /// only by <see cref="ReleaseCached"/>, <see cref="Dispose"/> or the accelerator's disposal.
    /// </summary>
    static MemoryBuffer1D<byte, Stride1D.Dense> Owned(MemoryBuffer1D<byte, Stride1D.Dense> buffer)
    {
        GC.SuppressFinalize(buffer);
        GC.SuppressFinalize(((ILGPU.IArrayView)buffer).Buffer); // the wrapped accelerator buffer that holds the memory
        return buffer;
    }

    static void DrainFinalizers()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    public void Dispose()
    {
        ReleaseCached();
        lock (_lock) _disposed = true;
    }
}
