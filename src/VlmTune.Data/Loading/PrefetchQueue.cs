using System.Runtime.ExceptionServices;

namespace VlmTune.Data.Loading;

/// <summary>
/// Items <c>first, first+1, …, end−1</c> of a pure function <c>produce(k)</c>, computed by background worker threads
/// at most <c>depth</c> items ahead of the consumer and handed out strictly in order. Which worker computes which item
/// and when never shows: item k is produce(k), so the sequence is the same at 0, 1 or N workers (0 = computed by
/// <see cref="Take"/> on the caller's thread). A worker's exception is rethrown by the <see cref="Take"/> of that item.
/// Dispose stops the workers (they finish the item in hand) and joins them.
/// </summary>
public sealed class PrefetchQueue<T> : IDisposable
{
    readonly Func<long, T> _produce;
    readonly long _end;
    readonly int _depth;
    readonly Thread[] _threads;
    readonly Dictionary<long, (T? Value, ExceptionDispatchInfo? Error)> _ready = new();
    readonly object _gate = new();
    long _nextClaim, _nextTake;
    bool _stopped;

    public PrefetchQueue(Func<long, T> produce, long first, long end, int workers, int depth, string name = "vlmtune-data")
    {
        ArgumentNullException.ThrowIfNull(produce);
        ArgumentOutOfRangeException.ThrowIfNegative(workers);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        _produce = produce;
        _end = end;
        _depth = depth;
        _nextClaim = _nextTake = first;
        _threads = new Thread[workers];
        for (int w = 0; w < workers; w++)
        {
            _threads[w] = new Thread(Work) { IsBackground = true, Name = $"{name}-{w}" };
            _threads[w].Start();
        }
    }

    public int Workers => _threads.Length;

    /// <summary>The next item in order; blocks until a worker has it.</summary>
    /// <exception cref="InvalidOperationException">Past the end.</exception>
    public T Take()
    {
        long k;
        lock (_gate)
        {
            if (_nextTake >= _end) throw new InvalidOperationException($"item {_nextTake} requested, the queue ends at {_end}");
            k = _nextTake;
        }
        if (_threads.Length == 0)
        {
            lock (_gate) _nextTake++;
            return _produce(k);
        }
        (T? Value, ExceptionDispatchInfo? Error) item;
        lock (_gate)
        {
            while (!_ready.Remove(k, out item)) Monitor.Wait(_gate);
            _nextTake++;
            Monitor.PulseAll(_gate);                   // a slot is free
        }
        item.Error?.Throw();
        return item.Value!;
    }

    void Work()
    {
        while (true)
        {
            long k;
            lock (_gate)
            {
                while (!_stopped && _nextClaim < _end && _nextClaim >= _nextTake + _depth) Monitor.Wait(_gate);
                if (_stopped || _nextClaim >= _end) return;
                k = _nextClaim++;
            }
            (T?, ExceptionDispatchInfo?) result;
            try { result = (_produce(k), null); }
            catch (Exception e) { result = (default, ExceptionDispatchInfo.Capture(e)); }
            lock (_gate)
            {
                _ready[k] = result;
                Monitor.PulseAll(_gate);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopped = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var t in _threads) t.Join();
        lock (_gate) _ready.Clear();
    }
}
