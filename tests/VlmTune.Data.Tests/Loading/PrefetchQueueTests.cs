using VlmTune.Data.Loading;

namespace VlmTune.Data.Tests.Loading;

public class PrefetchQueueTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    public void Items_come_in_order_at_most_depth_ahead(int workers)
    {
        int taken = 3, maxAhead = 0;
        var gate = new object();
        using var q = new PrefetchQueue<long>(k =>
        {
            lock (gate) maxAhead = Math.Max(maxAhead, (int)(k - taken));
            Thread.Sleep((int)(k * 7 % 5));
            return k * k;
        }, 3, 40, workers, depth: 3);
        for (long k = 3; k < 40; k++)
        {
            Assert.Equal(k * k, q.Take());
            lock (gate) taken = (int)k + 1;
        }
        Assert.True(maxAhead <= 3, $"an item was produced {maxAhead} ahead of the consumer");
        Assert.Throws<InvalidOperationException>(() => q.Take());
    }

    [Fact]
    public void A_worker_exception_surfaces_at_its_item()
    {
        using var q = new PrefetchQueue<int>(k => k == 2 ? throw new FormatException("bad item 2") : (int)k, 0, 5, workers: 3, depth: 2);
        Assert.Equal(0, q.Take());
        Assert.Equal(1, q.Take());
        Assert.Equal("bad item 2", Assert.Throws<FormatException>(() => q.Take()).Message);
    }
}
