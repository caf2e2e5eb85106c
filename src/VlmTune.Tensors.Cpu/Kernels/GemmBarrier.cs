namespace VlmTune.Tensors.Cpu.Kernels;

/// <summary>
/// Sense-reversing spin barrier for the threads of one GEMM call. Phases are short (one packed block), so
/// waiting threads spin and yield instead of blocking in the kernel; they never Sleep(1).
/// </summary>
internal sealed class GemmBarrier
{
    private int _participants = 1;
    private int _arrived;
    private volatile int _generation;

    /// <summary>Sets the participant count; call only while no thread is inside <see cref="SignalAndWait"/>.</summary>
    public void Reset(int participants)
    {
        _participants = participants;
        _arrived = 0;
    }

    public void SignalAndWait()
    {
        if (_participants == 1) return;
        int generation = _generation;
        if (Interlocked.Increment(ref _arrived) == _participants)
        {
            _arrived = 0;
            _generation = generation + 1; // volatile write publishes _arrived = 0 too
            return;
        }
        var spin = new SpinWait();
        while (_generation == generation) spin.SpinOnce(sleep1Threshold: -1);
    }
}
