using VlmTune.Data.Datasets;

namespace VlmTune.Data.Tests.Datasets;

public class DatasetSplitTests
{
    [Theory]
    [InlineData(30, 0.1, 3)]
    [InlineData(10, 0.25, 3)]
    [InlineData(7, 0.0, 0)]
    [InlineData(1000, 0.05, 50)]
    public void Fraction_uses_ceil(int count, double fraction, int expectedEval)
    {
        var split = DatasetSplit.ByFraction(count, fraction, seed: 3);
        Assert.Equal(expectedEval, split.Eval.Length);
        Assert.Equal(count - expectedEval, split.Train.Length);
        Assert.Equal(Enumerable.Range(0, count), split.Train.Concat(split.Eval).Order());
    }

    [Fact]
    public void Split_is_deterministic_sorted_and_seed_dependent()
    {
        var a = DatasetSplit.ByCount(100, 10, 9);
        var b = DatasetSplit.ByCount(100, 10, 9);
        Assert.Equal(a.Eval, b.Eval);
        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.Eval.Order(), a.Eval);
        Assert.NotEqual(a.Eval, DatasetSplit.ByCount(100, 10, 10).Eval);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplit.ByCount(5, 6, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplit.ByFraction(5, 1.0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplit.ByFraction(5, -0.1, 0));
    }
}
