using VlmTune.Data.Loading;
using VlmTune.Data.Tests.Support;
using VlmTune.Processing;
using VlmTune.Processing.Resampling;

namespace VlmTune.Data.Tests.Loading;

public sealed class ImageFeatureCacheTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "vlmtune-fcache-" + Guid.NewGuid().ToString("N"));
    readonly List<string> _log = [];

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    static readonly byte[] Image = [1, 2, 3, 4, 5];
    static string Processor => ImagePreparer.ProcessorFingerprint(TestData.Tiny.ImageConfig);

    [Fact]
    public void The_key_changes_with_the_image_the_processor_config_the_weights_the_dtype_and_shrinking()
    {
        var key = ImageFeatureCache.KeyOf(Image, Processor, "w1", "f32", false);
        Assert.Equal(key, ImageFeatureCache.KeyOf([1, 2, 3, 4, 5], Processor, "w1", "f32", false));
        Assert.NotEqual(key, ImageFeatureCache.KeyOf([1, 2, 3, 4, 6], Processor, "w1", "f32", false));
        Assert.NotEqual(key, ImageFeatureCache.KeyOf(Image, ImagePreparer.ProcessorFingerprint(TestData.Tiny.ImageConfig with { LongestEdge = 96 }), "w1", "f32", false));
        Assert.NotEqual(key, ImageFeatureCache.KeyOf(Image, ImagePreparer.ProcessorFingerprint(TestData.Tiny.ImageConfig with { ImageMean = [0.5, 0.5, 0.4] }), "w1", "f32", false));
        Assert.NotEqual(key, ImageFeatureCache.KeyOf(Image, ImagePreparer.ProcessorFingerprint(TestData.Tiny.ImageConfig with { Resample = ResampleFilter.Bicubic }), "w1", "f32", false));
        Assert.NotEqual(key, ImageFeatureCache.KeyOf(Image, Processor, "w2", "f32", false));
        Assert.NotEqual(key, ImageFeatureCache.KeyOf(Image, Processor, "w1", "bf16", false));
        Assert.NotEqual(key, ImageFeatureCache.KeyOf(Image, Processor, "w1", "f32", true));
        // A stored entry is found only under its own key.
        var cache = new ImageFeatureCache(_dir, 1 << 20, _log.Add);
        cache.Put(key, 2, 3, 4, 4, new byte[96]);
        Assert.NotNull(cache.TryGet(key, 2, 3, 4, 4));
        Assert.Null(cache.TryGet(ImageFeatureCache.KeyOf(Image, Processor, "w2", "f32", false), 2, 3, 4, 4));
    }

    static byte[] Payload() => Enumerable.Range(0, 96).Select(i => (byte)(i * 3)).ToArray();

    [Theory]
    [InlineData("truncate")]
    [InlineData("flip")]
    [InlineData("header")]
    [InlineData("empty")]
    public void A_corrupt_or_truncated_entry_is_a_miss_deleted_and_recomputed(string damage)
    {
        var key = ImageFeatureCache.KeyOf(Image, Processor, "w", "f32", false);
        var cache = new ImageFeatureCache(_dir, 1 << 20, _log.Add);
        cache.Put(key, 2, 3, 4, 4, Payload());
        string file = Directory.GetFiles(_dir, "*.feat").Single();
        var bytes = File.ReadAllBytes(file);
        switch (damage)
        {
            case "truncate": File.WriteAllBytes(file, bytes[..^10]); break;
            case "flip": bytes[^5] ^= 0x10; File.WriteAllBytes(file, bytes); break;
            case "header": bytes[41] ^= 1; File.WriteAllBytes(file, bytes); break;
            case "empty": File.WriteAllBytes(file, []); break;
        }
        var reopened = new ImageFeatureCache(_dir, 1 << 20, _log.Add);
        Assert.Null(reopened.TryGet(key, 2, 3, 4, 4));
        Assert.Contains(_log, m => m.Contains("is corrupt") && m.Contains("recomputing"));
        Assert.False(File.Exists(file));
        reopened.Put(key, 2, 3, 4, 4, Payload());                   // the recomputed features are written again
        Assert.Equal(Payload(), reopened.TryGet(key, 2, 3, 4, 4));
        Assert.Equal((1, 1, 1, 1), reopened.TakeCounts());
    }

    [Fact]
    public void A_full_cache_says_so_once_and_stops_writing()
    {
        var cache = new ImageFeatureCache(_dir, 2 * (96 + 96) + 10, _log.Add);
        for (int i = 0; i < 4; i++)
            cache.Put(ImageFeatureCache.KeyOf([(byte)i], Processor, "w", "f32", false), 2, 3, 4, 4, Payload());
        Assert.Equal(2, Directory.GetFiles(_dir, "*.feat").Length);
        Assert.Single(_log, m => m.StartsWith("feature cache full", StringComparison.Ordinal));
        Assert.Null(cache.TryGet(ImageFeatureCache.KeyOf([3], Processor, "w", "f32", false), 2, 3, 4, 4));
        // Leftover temp files of a crash mid-write are removed on open and do not count.
        File.WriteAllBytes(Path.Combine(_dir, "x.feat.1.1.tmp"), new byte[50]);
        var reopened = new ImageFeatureCache(_dir, 1 << 20);
        Assert.Equal(2 * (96 + 96), reopened.SizeBytes);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }
}
