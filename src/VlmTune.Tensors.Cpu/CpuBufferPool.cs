namespace VlmTune.Tensors.Cpu;

/// <summary>
/// Buffers of disposed CPU storages, kept by exact length for the next allocation of that length (a training step
/// allocates the same shapes layer after layer). Only storages that are disposed explicitly come back here — the
/// backward walk disposes spent gradients (Autograd.Backward) — never through a finalizer; buffers the GC reclaims
/// are simply gone. Bounded: past <see cref="CapacityBytes"/> a returned buffer is left to the GC. Thread-safe.
/// Reusing a buffer skips the fresh pages a new pinned array costs (a page fault and a kernel page clear per 4 KiB,
/// a third of a 256M QLoRA step's time in perf before this pool).
/// </summary>
internal sealed class CpuBufferPool(long capacityBytes)
{
    /// <summary>Smaller buffers are left to the GC: cheap to make, and many of them would crowd the table.</summary>
    public const int MinPooledBytes = 64 * 1024;

    readonly Dictionary<int, Stack<byte[]>> _free = [];
    readonly object _gate = new();
    long _pooledBytes;

    public long CapacityBytes { get; } = capacityBytes;

    /// <summary>Bytes held for reuse now.</summary>
    public long PooledBytes { get { lock (_gate) return _pooledBytes; } }

    /// <summary>A pooled buffer of exactly <paramref name="length"/> bytes (contents arbitrary), or null.</summary>
    public byte[]? Take(int length)
    {
        if (length < MinPooledBytes) return null;
        lock (_gate)
        {
            if (!_free.TryGetValue(length, out var stack) || stack.Count == 0) return null;
            _pooledBytes -= length;
            return stack.Pop();
        }
    }

    /// <summary>Keeps <paramref name="buffer"/> for reuse (its owner must never touch it again).</summary>
    public void Give(byte[] buffer)
    {
        if (buffer.Length < MinPooledBytes) return;
        lock (_gate)
        {
            if (_pooledBytes + buffer.Length > CapacityBytes) return;
            if (!_free.TryGetValue(buffer.Length, out var stack)) _free[buffer.Length] = stack = new Stack<byte[]>();
            stack.Push(buffer);
            _pooledBytes += buffer.Length;
        }
    }
}
