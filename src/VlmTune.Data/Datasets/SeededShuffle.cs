namespace VlmTune.Data.Datasets;

/// <summary>
/// Reproducible shuffling, identical on every platform and .NET version (System.Random's sequence is not a
/// contract, so it is not used):
/// <list type="number">
/// <item>generator: SplitMix64 (Steele, Lea, Flood 2014) seeded with the 64-bit seed:
///   <c>state += 0x9E3779B97F4A7C15; z = state; z = (z ^ z&gt;&gt;30)·0xBF58476D1CE4E5B9; z = (z ^ z&gt;&gt;27)·0x94D049BB133111EB; z ^ z&gt;&gt;31</c>;</item>
/// <item>bounded draws in [0, n): rejection sampling, drawing again while <c>x &lt; (2⁶⁴ − n) mod n</c>, then
///   <c>x mod n</c> (unbiased);</item>
/// <item>permutation: Fisher–Yates (Durstenfeld) from the top: for i = n−1 down to 1, swap a[i] with a[draw(i+1)].</item>
/// </list>
/// Epoch e of a run uses seed <c>seed + e</c> (see <see cref="EpochSeed"/>).
/// </summary>
public static class SeededShuffle
{
    /// <summary>A permutation of 0..count−1.</summary>
    public static int[] Permutation(int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        Shuffle(order, seed);
        return order;
    }

    /// <summary>Shuffles <paramref name="items"/> in place.</summary>
    public static void Shuffle<T>(Span<T> items, ulong seed)
    {
        ulong state = seed;
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)Below(ref state, (ulong)(i + 1));
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>The seed of epoch <paramref name="epoch"/> (0-based) for a run seeded with <paramref name="seed"/>.</summary>
    public static ulong EpochSeed(ulong seed, int epoch) => unchecked(seed + (ulong)epoch);

    /// <summary>The next SplitMix64 output.</summary>
    public static ulong Next(ref ulong state)
    {
        unchecked
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    private static ulong Below(ref ulong state, ulong n)
    {
        ulong threshold = unchecked(0UL - n) % n;
        while (true)
        {
            ulong x = Next(ref state);
            if (x >= threshold) return x % n;
        }
    }
}
