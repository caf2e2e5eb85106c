using VlmTune.Data.Datasets;

namespace VlmTune.Data.Tests.Datasets;

public class SeededShuffleTests
{
    [Fact]
    public void SplitMix64_matches_the_reference_sequence()
    {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c; also Java's SplittableRandom(0) mixes).
        ulong state = 0;
        Assert.Equal(0xE220A8397B1DCDAFUL, SeededShuffle.Next(ref state));
        Assert.Equal(0x6E789E6AA1B965F4UL, SeededShuffle.Next(ref state));
        Assert.Equal(0x06C45D188009454FUL, SeededShuffle.Next(ref state));
    }

    [Fact]
    public void Permutation_is_reproducible_and_complete()
    {
        int[] a = SeededShuffle.Permutation(1000, 42);
        Assert.Equal(a, SeededShuffle.Permutation(1000, 42));
        Assert.NotEqual(a, SeededShuffle.Permutation(1000, 43));
        Assert.Equal(Enumerable.Range(0, 1000), a.Order());
        Assert.NotEqual(Enumerable.Range(0, 1000), a);
    }

    [Fact]
    public void Pinned_permutation_of_ten()
    {
        // Pinned so that a change to the algorithm (which would change every user's data order) fails loudly.
        Assert.Equal(PinnedTen, SeededShuffle.Permutation(10, 1234));
    }

    static readonly int[] PinnedTen = Compute();

    // Independent re-implementation of the documented algorithm (SplitMix64 + rejection + Fisher–Yates from the top).
    static int[] Compute()
    {
        ulong s = 1234;
        ulong Next()
        {
            unchecked
            {
                s += 0x9E3779B97F4A7C15UL;
                ulong z = s;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
        }
        var a = Enumerable.Range(0, 10).ToArray();
        for (int i = 9; i > 0; i--)
        {
            ulong n = (ulong)(i + 1), threshold = unchecked(0UL - n) % n, x;
            do x = Next(); while (x < threshold);
            int j = (int)(x % n);
            (a[i], a[j]) = (a[j], a[i]);
        }
        return a;
    }

    [Fact]
    public void Epoch_seeds_differ()
    {
        Assert.NotEqual(SeededShuffle.Permutation(20, SeededShuffle.EpochSeed(5, 0)), SeededShuffle.Permutation(20, SeededShuffle.EpochSeed(5, 1)));
    }
}
