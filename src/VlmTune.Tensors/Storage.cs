namespace VlmTune.Tensors;

/// <summary>
/// A device buffer owned by its backend. Tensors are views (shape, strides, offset, dtype) over a storage;
/// several tensors may share one. <see cref="Dispose"/> frees it at once (for CUDA: back to the stream-ordered pool);
/// the CPU backend's buffers are also safe to leave to the GC.
/// </summary>
public abstract class Storage : IDisposable
{
    public abstract Device Device { get; }
    public abstract long ByteLength { get; }
    public abstract void Dispose();
}
