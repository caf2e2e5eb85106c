namespace VlmTune.Tensors.Autograd;

/// <summary>
/// The storages <see cref="Ops.Empty"/> / <see cref="Ops.Zeros"/> allocate on this thread while a checkpointed block
/// runs, so <see cref="Checkpoint"/> can free the block's intermediates the moment they are spent: after the no-grad
/// forward (everything but the block's output), and after the recompute's backward (everything). The block is a pure
/// function of its inputs and parameters (checkpointing already requires it: it is run twice), so nothing it
/// allocates outlives it except its output. Allocations on worker threads and the backends' own scratch are not
/// recorded (they stay with the GC). Scopes nest: a block's kept output joins the enclosing scope's record. A
/// storage freed too early fails loudly (ObjectDisposedException on the CPU).
/// </summary>
internal sealed class BlockAllocations : IDisposable
{
    [ThreadStatic] static BlockAllocations? t_current;

    readonly BlockAllocations? _parent;
    readonly List<Storage> _storages = [];
    bool _recording = true;

    BlockAllocations(BlockAllocations? parent) => _parent = parent;

    /// <summary>Starts recording this thread's allocations (until <see cref="Dispose"/>).</summary>
    public static BlockAllocations Begin() => t_current = new BlockAllocations(t_current);

    /// <summary>Called by the allocating ops.</summary>
    public static void Record(Storage storage) => t_current?._storages.Add(storage);

    /// <summary>Stops recording; the enclosing scope (if any) records again.</summary>
    public void Dispose()
    {
        if (!_recording) return;
        _recording = false;
        if (ReferenceEquals(t_current, this)) t_current = _parent;
    }

    /// <summary>Frees every recorded storage but <paramref name="keep"/>'s, which passes to the enclosing scope.</summary>
    public void FreeAllBut(Tensor? keep)
    {
        Dispose();
        foreach (var storage in _storages)
        {
            if (keep != null && ReferenceEquals(storage, keep.Storage)) _parent?._storages.Add(storage);
            else storage.Dispose();
        }
        _storages.Clear();
    }
}
