namespace VlmTune.Data.Datasets;

/// <summary>
/// A deterministic train/eval split of record indices: the records are permuted with <see cref="SeededShuffle"/>
/// (the given seed), the first k of the permutation become the eval set and the rest the train set; both lists
/// are then sorted back into file order. With a fraction f, k = ceil(f · n) (Hugging Face datasets'
/// train_test_split rule, less a 1e-9 tolerance so that 0.1 · 30 gives 3 and not 4 as floating point would). The same (n, k, seed) always gives the same split.
/// </summary>
public sealed record DatasetSplit(int[] Train, int[] Eval)
{
    /// <summary>Splits off <paramref name="evalCount"/> of <paramref name="count"/> records.</summary>
    public static DatasetSplit ByCount(int count, int evalCount, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (evalCount < 0 || evalCount > count)
            throw new ArgumentOutOfRangeException(nameof(evalCount), $"eval count {evalCount} must be in 0..{count} (the number of records)");
        int[] order = SeededShuffle.Permutation(count, seed);
        int[] eval = order[..evalCount];
        int[] train = order[evalCount..];
        Array.Sort(eval);
        Array.Sort(train);
        return new DatasetSplit(train, eval);
    }

    /// <summary>Splits off ceil(fraction · count) records; fraction in [0, 1).</summary>
    public static DatasetSplit ByFraction(int count, double fraction, ulong seed)
    {
        if (!(fraction >= 0 && fraction < 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), $"eval fraction must be in [0, 1), got {fraction}");
        int k = (int)Math.Ceiling(fraction * count - 1e-9);
        return ByCount(count, Math.Min(k, count), seed);
    }
}
