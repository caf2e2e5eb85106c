namespace VlmTune.Data.Inspection;

/// <summary>Summary of one per-sample count. P95 is the nearest-rank 95th percentile (the ceil(0.95·n)-th smallest).</summary>
public sealed record TokenStats(int Count, int Min, double Mean, int P95, int Max)
{
    public static TokenStats Of(IReadOnlyList<int> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) return new TokenStats(0, 0, 0, 0, 0);
        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(0.95 * sorted.Length);
        return new TokenStats(sorted.Length, sorted[0], sorted.Average(), sorted[Math.Max(rank, 1) - 1], sorted[^1]);
    }

    public override string ToString() => $"min {Min}  mean {Mean:F1}  p95 {P95}  max {Max}";
}
