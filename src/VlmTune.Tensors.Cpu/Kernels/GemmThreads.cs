namespace VlmTune.Tensors.Cpu.Kernels;

/// <summary>
/// A fixed, lazily grown set of background worker threads for multi-threaded GEMM calls. One call uses the
/// workers at a time (others wait on a lock); the calling thread is participant 0 and workers 1..threads-1.
/// The job lives in static fields, so dispatching allocates nothing.
/// </summary>
/// <remarks>
/// A decode step's products last 10–30 µs, about what waking a thread blocked in the kernel costs, so a worker that
/// finishes a job polls its start event for <see cref="SpinMicroseconds"/> (pausing, and yielding the core now and
/// then to any other runnable thread) before it blocks; the caller polls the done event the same way. The event's
/// state stays the only signal, so a job posted while a worker is going to sleep still wakes it.
/// </remarks>
internal static class GemmThreads
{
    private static readonly object s_gate = new();
    private static readonly GemmBarrier s_barrier = new();
    private static readonly ManualResetEventSlim s_done = new(false);
    private static ManualResetEventSlim[] s_start = [];

    /// <summary>How long a thread polls for the next job (worker) or the end of this one (caller) before blocking.</summary>
    private const int SpinMicroseconds = 200;
    private static readonly long s_spinTicks = Math.Max(1, System.Diagnostics.Stopwatch.Frequency * SpinMicroseconds / 1_000_000);

    // The current job (written under s_gate before the workers are released).
    private static GemmProblem s_problem;
    private static GemmWorkspace? s_workspace;
    private static int s_threads;
    private static int s_pending;

    /// <summary>Runs the call on the calling thread plus threads-1 workers (threads ≥ 2); blocks until done.</summary>
    public static void Run(in GemmProblem problem, int threads)
    {
        lock (s_gate)
        {
            EnsureWorkers(threads - 1);
            GemmWorkspace ws = GemmWorkspace.Rent(threads);
            s_problem = problem;
            s_workspace = ws;
            s_threads = threads;
            s_pending = threads - 1;
            s_barrier.Reset(threads);
            s_done.Reset();
            for (int w = 0; w < threads - 1; w++) s_start[w].Set();

            GemmDriver.Run(in s_problem, ws, 0, threads, s_barrier);

            SpinThenWait(s_done);
            s_workspace = null;
            GemmWorkspace.Return(ws);
        }
    }

    private static void EnsureWorkers(int count)
    {
        if (s_start.Length >= count) return;
        var grown = new ManualResetEventSlim[count];
        Array.Copy(s_start, grown, s_start.Length);
        for (int w = s_start.Length; w < count; w++)
        {
            grown[w] = new ManualResetEventSlim(false);
            int tid = w + 1;
            var thread = new Thread(() => WorkerLoop(tid)) { IsBackground = true, Name = $"gemm-worker-{tid}" };
            // Publish the event before the thread can look for it.
            s_start = grown;
            thread.Start();
        }
        s_start = grown;
    }

    private static void WorkerLoop(int tid)
    {
        ManualResetEventSlim start = s_start[tid - 1];
        while (true)
        {
            SpinThenWait(start);
            start.Reset();
            GemmDriver.Run(in s_problem, s_workspace!, tid, s_threads, s_barrier);
            if (Interlocked.Decrement(ref s_pending) == 0) s_done.Set();
        }
    }

    /// <summary>Polls <paramref name="signal"/> for up to <see cref="SpinMicroseconds"/>, then blocks on it.</summary>
    private static void SpinThenWait(ManualResetEventSlim signal)
    {
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + s_spinTicks;
        for (int i = 1; !signal.IsSet; i++)
        {
            Thread.SpinWait(16);
            if (i % 64 != 0) continue;
            if (System.Diagnostics.Stopwatch.GetTimestamp() > deadline) { signal.Wait(); return; }
            Thread.Yield();
        }
    }
}
