namespace VlmTune.Tensors.Cpu;

/// <summary>Splits a range of independent work items over the backend's worker threads.</summary>
internal static class Par
{
    /// <summary>Runs body(start, end) over [0, n) in at most <paramref name="threads"/> chunks of at least <paramref name="grain"/> items.</summary>
    public static void For(int n, int grain, int threads, Action<int, int> body)
    {
        if (n <= 0) return;
        int chunks = Math.Max(1, Math.Min(threads, n / Math.Max(1, grain)));
        if (chunks == 1) { body(0, n); return; }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            int start = (int)((long)n * c / chunks), end = (int)((long)n * (c + 1) / chunks);
            body(start, end);
        });
    }
}
