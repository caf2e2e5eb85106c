namespace VlmTune.Data.Loading;

/// <summary>
/// Length-grouped batching as HF's <c>LengthGroupedSampler</c> (transformers trainer_pt_utils.get_length_grouped_indices):
/// the epoch's permutation is cut into mega-batches of <c>m·B</c> samples with <c>m = min(n / (4B), 50)</c> (at least 1),
/// each mega-batch is sorted by length, longest first (stable, so ties keep the permutation's order), and the
/// mega-batch holding the longest sample is moved to the front so an out-of-memory shows at the first step. Batches
/// stay random across mega-batches but hold similar lengths. The result is a pure function of the permutation and
/// the lengths, so a seeded, resumed run sees the same batches.
/// </summary>
public static class LengthGrouping
{
    public static int[] Group(IReadOnlyList<int> permutation, Func<int, int> lengthOf, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(permutation);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int n = permutation.Count;
        int mult = Math.Max(1, Math.Min(n / (4 * batchSize), 50));
        int mega = mult * batchSize;
        var groups = new List<int[]>();
        for (int start = 0; start < n; start += mega)
        {
            var g = permutation.Skip(start).Take(mega).ToArray();
            var keys = g.Select(lengthOf).ToArray();
            var idx = Enumerable.Range(0, g.Length).OrderByDescending(k => keys[k]).ThenBy(k => k).Select(k => g[k]).ToArray();
            groups.Add(idx);
        }
        if (groups.Count > 1)
        {
            int longest = 0;
            for (int k = 1; k < groups.Count; k++)
                if (lengthOf(groups[k][0]) > lengthOf(groups[longest][0])) longest = k;
            // HF swaps the first element of the longest mega-batch with the first of the first; swapping whole
            // mega-batches keeps every batch's members together (same effect on the first step, less mixing).
            (groups[0], groups[longest]) = (groups[longest], groups[0]);
        }
        return groups.SelectMany(g => g).ToArray();
    }

    /// <summary>Padding share of a batch list: Σ (longest·B − Σ lengths) / Σ longest·B.</summary>
    public static double PaddingFraction(IEnumerable<IReadOnlyList<int>> batchLengths)
    {
        long padded = 0, real = 0;
        foreach (var b in batchLengths)
        {
            if (b.Count == 0) continue;
            padded += (long)b.Max() * b.Count;
            real += b.Sum(x => (long)x);
        }
        return padded == 0 ? 0 : (double)(padded - real) / padded;
    }
}
