using VlmTune.Processing.Tests.Support;

namespace VlmTune.Processing.Tests;

public class ProcessedImageBatchTests
{
    static readonly ImageProcessorConfig Small = ImageProcessorConfig.SmolVlm256M with { LongestEdge = 64, MaxImageSize = 16, ImageSeqLen = 4 };

    [Fact]
    public void Samples_are_padded_with_zero_tiles_and_mask_zero()
    {
        var processor = new SmolVlmImageProcessor(Small);
        var wide = ProcessorFixtures.Synthetic(40, 10, seed: 3);    // 64×16 → 1×4 tiles + global = 5
        var square = ProcessorFixtures.Synthetic(20, 20, seed: 4);  // 64×64 → 4×4 + 1 = 17
        ProcessedImageBatch batch = processor.ProcessBatch([[wide], [square, wide]]);

        Assert.Equal(2, batch.BatchSize);
        Assert.Equal(22, batch.MaxTiles);
        Assert.Equal([5, 22], batch.TileCounts);
        Assert.Equal(2 * 22 * 3 * 16 * 16, batch.PixelValues.Length);
        Assert.Equal(Enumerable.Repeat(true, 5).Concat(Enumerable.Repeat(false, 17)).Concat(Enumerable.Repeat(true, 22)), batch.TileMask);
        Assert.Equal([1], batch.ImageRows[0]);
        Assert.Equal([4, 1], batch.ImageRows[1]);
        Assert.Equal([4, 4], batch.ImageCols[1]);

        int tile = 3 * 16 * 16;
        Assert.Equal(processor.Process([wide]).PixelValues, batch.PixelValues.AsSpan(0, 5 * tile).ToArray());
        Assert.All(batch.PixelValues.AsSpan(5 * tile, 17 * tile).ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(processor.Process([square, wide]).PixelValues, batch.PixelValues.AsSpan(22 * tile, 22 * tile).ToArray());

        byte[] mask = batch.BuildPixelAttentionMask();
        Assert.Equal(2 * 22 * 16 * 16, mask.Length);
        Assert.Equal(1, mask[0]);
        Assert.Equal(0, mask[5 * 256]);
        Assert.Equal(1, mask[22 * 256]);
    }

    [Fact]
    public void Pad_of_processed_samples_equals_process_batch()
    {
        var processor = new SmolVlmImageProcessor(Small);
        var a = ProcessorFixtures.Synthetic(40, 10, seed: 3);
        var b = ProcessorFixtures.Synthetic(9, 30, seed: 8);
        ProcessedImageBatch direct = processor.ProcessBatch([[a], [b, a]]);
        ProcessedImageBatch padded = ProcessedImageBatch.Pad([processor.Process([a]), processor.Process([b, a])]);
        Assert.Equal(direct.PixelValues, padded.PixelValues);
        Assert.Equal(direct.TileMask, padded.TileMask);
        Assert.Equal(direct.ImageCols, padded.ImageCols);
    }

    [Fact]
    public void Mixed_tile_sizes_are_rejected()
    {
        var a = new ProcessedImages(new float[3 * 4], 1, 2, [0], [0]);
        var b = new ProcessedImages(new float[3 * 9], 1, 3, [0], [0]);
        Assert.Throws<ArgumentException>(() => ProcessedImageBatch.Pad([a, b]));
    }
}
