using System.Runtime.InteropServices;
using VlmTune.Data.Collation;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Data.Loading;
using VlmTune.Data.Tests.Support;
using VlmTune.Images;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Data.Tests.Loading;

public class StreamedLoaderTests
{
    static string Sft => Path.Combine(TestData.FixtureDir, "sft.jsonl");

    [Fact]
    public void The_plan_reads_headers_only_and_gives_the_lengths_of_full_encoding()
    {
        using var ds = DatasetReader.OpenSft(Sft);
        var plan = DatasetPlan.Sft(ds, TestData.Tiny, EncodingOptions.Default, new BadRecordLog(BadRecordPolicy.Error), threads: 3);
        var full = new SftEncoder(TestData.Tiny);
        Assert.Equal(ds.Count, plan.Count);
        for (int i = 0; i < plan.Count; i++)
        {
            var s = full.Encode(ds.Read(plan.Samples[i].Record))!;
            Assert.Equal(s.Length, plan.Samples[i].Length);
            Assert.Equal(s.ImageTokenCount, plan.Samples[i].ImageTokens);
            Assert.Equal(s.SupervisedCount, plan.Samples[i].Supervised);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    public void Streamed_batches_are_the_planned_samples_in_order_at_any_worker_count(int workers)
    {
        // What training consumes = the direct encoding (pixels included) of the planned samples, in the planned order.
        using var ds = DatasetReader.OpenSft(Sft);
        var p = TestData.Tiny;
        var plan = DatasetPlan.Sft(ds, p, EncodingOptions.Default, new BadRecordLog(BadRecordPolicy.Error), threads: 1);
        var loader = StreamedLoader.Sft(ds, plan, p, EncodingOptions.Default, new ImagePreparer(p, DType.F32));
        int[][] batches = [[3, 0], [2, 1], [1, 1], [0, 2], [3, 3]];
        var full = new SftEncoder(p);
        var collator = new SftCollator(p);
        using var queue = new PrefetchQueue<StreamedBatch<SftBatch>>(k => loader.LoadSft(batches[k]), 0, batches.Length, workers, depth: 2);
        for (int k = 0; k < batches.Length; k++)
        {
            var got = queue.Take();
            Assert.Equal(batches[k], got.Samples);
            var direct = batches[k].Select(i => full.Encode(ds.Read(plan.Samples[i].Record))!).ToList();
            var want = collator.Collate(direct);
            Assert.Equal(want.InputIds, got.Text.InputIds);
            Assert.Equal(want.Labels, got.Text.Labels);
            Assert.Equal(want.AttentionMask, got.Text.AttentionMask);
            Assert.Equal(direct.Select(s => s.Images?.TileCount ?? 0), got.TilesPerSample);
            var wantPixels = direct.SelectMany(s => s.Images?.PixelValues ?? []).ToArray();
            var gotPixels = got.Images.SelectMany(i => MemoryMarshal.Cast<byte, float>(i.Pixels!).ToArray()).ToArray();
            Assert.Equal(wantPixels, gotPixels);
        }
    }

    [Fact]
    public void Bf16_pixels_round_as_the_backend_cast()
    {
        float[] values = [0f, -1f, 1f / 3, 1.00390625f, 1.01171875f, -0.7f, 65504f, float.NaN];
        var got = MemoryMarshal.Cast<byte, ushort>(ImagePreparer.ToDType(values, DType.BF16)).ToArray();
        var cast = Ops.ToDType(Ops.FromArray(values, new Shape(values.Length), CpuBackend.Device), DType.BF16).ToArray<ushort>();
        Assert.Equal(cast, got);
        Assert.Equal(values.Select(Bf16.FromFloat), got);
    }

    [Theory]
    [InlineData("jpeg/exif_1.jpg")]
    [InlineData("jpeg/exif_6.jpg")]
    [InlineData("jpeg/exif_8.jpg")]
    [InlineData("jpeg/prog_420_48x40.jpg")]
    [InlineData("jpeg/prog_440_33x1.jpg")]
    public void Header_size_equals_the_decoded_size(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestData.FixtureDir, "..", "images", file));
        var image = ImageDecoder.Decode(bytes, file);
        Assert.Equal((image.Width, image.Height), ImageHeader.ReadSize(bytes, file));
    }

    [Fact]
    public void Header_size_of_pngs_and_a_refused_format()
    {
        foreach (var f in Directory.GetFiles(Path.Combine(TestData.FixtureDir, "images"), "*.png"))
        {
            var bytes = File.ReadAllBytes(f);
            var image = ImageDecoder.Decode(bytes, f);
            Assert.Equal((image.Width, image.Height), ImageHeader.ReadSize(bytes, f));
        }
        Assert.Throws<ImageFormatException>(() => ImageHeader.ReadSize("GIF89a......"u8, "x.gif"));
        Assert.Throws<ImageFormatException>(() => ImageHeader.ReadSize(File.ReadAllBytes(Path.Combine(TestData.FixtureDir, "..", "images", "jpeg", "err_12bit.jpg")), "12bit"));
    }

    [Fact]
    public void Under_error_the_first_bad_record_in_file_order_is_thrown_whatever_the_thread_count()
    {
        using var tmp = new TempDataset();
        string good = """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}""";
        string path = tmp.WriteLines("t.jsonl", good, good, "{bad", good, "{worse", good);
        using var ds = DatasetReader.OpenSft(path);
        var e = Assert.Throws<DatasetRecordException>(() =>
            DatasetPlan.Sft(ds, TestData.Tiny, EncodingOptions.Default, new BadRecordLog(BadRecordPolicy.Error), threads: 4));
        Assert.Equal(3, e.Record.Line);
        var log = new BadRecordLog(BadRecordPolicy.Skip);
        var plan = DatasetPlan.Sft(ds, TestData.Tiny, EncodingOptions.Default, log, threads: 4);
        Assert.Equal((4, 2), (plan.Count, log.SkippedCount));
        Assert.Equal([0, 1, 3, 5], plan.Samples.Select(s => s.Record));
    }
}
