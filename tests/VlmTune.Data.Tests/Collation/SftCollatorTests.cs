using VlmTune.Data.Collation;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Data.Tests.Support;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Data.Tests.Collation;

public class SftCollatorTests
{
    static List<EncodedSample> Samples()
    {
        var encoder = new SftEncoder(TestData.Tiny);
        using var ds = DatasetReader.OpenSft(Path.Combine(TestData.FixtureDir, "sft.jsonl"));
        return Enumerable.Range(0, ds.Count).Select(i => encoder.Encode(ds.Read(i))!).ToList();
    }

    [Fact]
    public void Pads_text_right_and_tiles_with_zeros()
    {
        var samples = Samples();
        var batch = new SftCollator(TestData.Tiny).Collate(samples);
        int b = 4, t = samples.Max(s => s.Length), n = 8, m = 32;
        Assert.Equal((b, t, n, m), (batch.BatchSize, batch.SequenceLength, batch.MaxTiles, batch.TileSize));
        Assert.Equal(b * t, batch.InputIds.Length);
        Assert.Equal(b * n * 3 * m * m, batch.PixelValues.Length);
        for (int i = 0; i < b; i++)
        {
            var s = samples[i];
            for (int j = 0; j < t; j++)
            {
                long id = batch.InputIds[i * t + j], label = batch.Labels[i * t + j], mask = batch.AttentionMask[i * t + j];
                if (j < s.Length) Assert.Equal((s.InputIds[j], (long)s.Labels[j], 1L), (id, label, mask));
                else Assert.Equal((2L, -100L, 0L), (id, label, mask));    // pad id <|im_end|>
            }
            int tiles = s.Images!.TileCount;
            for (int k = 0; k < n; k++)
            {
                Assert.Equal(k < tiles ? 1 : 0, batch.TileMask[i * n + k]);
                var tile = batch.PixelValues.AsSpan((i * n + k) * 3 * m * m, 3 * m * m);
                if (k >= tiles) Assert.True(tile.ToArray().All(v => v == 0f));
                else Assert.True(tile.SequenceEqual(s.Images.PixelValues.AsSpan(k * 3 * m * m, 3 * m * m)));
            }
        }
        Assert.DoesNotContain(Enumerable.Range(0, b * t), k => batch.Labels[k] != -100 && TestData.Tiny.TokenIds.IsImageRelated((int)batch.InputIds[k]));
    }

    [Fact]
    public void To_tensors_has_the_documented_shapes()
    {
        var batch = new SftCollator(TestData.Tiny).Collate(Samples());
        var x = batch.ToTensors(CpuBackend.Device);
        Assert.Equal(new Shape(4, batch.SequenceLength), x.InputIds.Shape);
        Assert.Equal(DType.I64, x.Labels.DType);
        Assert.Equal(new Shape(4, 8, 3, 32, 32), x.PixelValues!.Shape);
        Assert.Equal(DType.F32, x.PixelValues.DType);
        Assert.Equal(new Shape(4, 8), x.TileMask!.Shape);
    }

    [Fact]
    public void Text_only_batch_has_no_pixels()
    {
        var batch = new SftCollator(TestData.Tiny).Collate([Samples()[3]]);
        Assert.Equal(0, batch.MaxTiles);
        var x = batch.ToTensors(CpuBackend.Device);
        Assert.Null(x.PixelValues);
        Assert.Null(x.TileMask);
    }

    [Fact]
    public void Samples_without_pixels_are_refused()
    {
        var encoder = new SftEncoder(TestData.Tiny, new EncodingOptions { LoadPixels = false });
        using var ds = DatasetReader.OpenSft(Path.Combine(TestData.FixtureDir, "sft.jsonl"));
        Assert.Throws<ArgumentException>(() => new SftCollator(TestData.Tiny).Collate([encoder.Encode(ds.Read(0))!]));
    }
}
