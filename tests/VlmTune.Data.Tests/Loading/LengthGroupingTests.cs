using VlmTune.Data.Datasets;
using VlmTune.Data.Loading;

namespace VlmTune.Data.Tests.Loading;

public class LengthGroupingTests
{
    [Fact]
    public void Grouping_is_a_seeded_permutation_that_cuts_padding_on_mixed_lengths()
    {
        // 400 samples: short text-only (~40 tokens) mixed with long image samples (~900).
        int n = 400, b = 4;
        var lengths = Enumerable.Range(0, n).Select(i => i % 3 == 0 ? 880 + i % 50 : 30 + i % 40).ToArray();
        var perm = SeededShuffle.Permutation(n, 42);
        var grouped = LengthGrouping.Group(perm, i => lengths[i], b);
        Assert.Equal(Enumerable.Range(0, n), grouped.Order());
        Assert.Equal(grouped, LengthGrouping.Group(perm, i => lengths[i], b));
        Assert.Equal(lengths.Max(), lengths[grouped[0]]);                 // the longest batch comes first
        double Pad(int[] order) => LengthGrouping.PaddingFraction(order.Chunk(b).Select(c => (IReadOnlyList<int>)c.Select(i => lengths[i]).ToArray()));
        double before = Pad(perm), after = Pad(grouped);
        Assert.True(after < before / 4, $"padding {before:P1} → {after:P1}");
    }
}
