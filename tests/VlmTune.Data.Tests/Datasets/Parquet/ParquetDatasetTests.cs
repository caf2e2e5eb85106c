using VlmTune.Data.Datasets;
using VlmTune.Data.Datasets.Parquet;
using VlmTune.Data.Encoding;
using VlmTune.Data.Tests.Support;

namespace VlmTune.Data.Tests.Datasets.Parquet;

/// <summary>
/// Parquet datasets written by DuckDB (tests/reference/parquet/make_parquet.mjs → tests/fixtures/parquet/), read with
/// Parquet.Net and checked against the same records written as JSONL.
/// </summary>
public sealed class ParquetDatasetTests
{
    private static string Fixture(params string[] parts) => Path.Combine([TestData.FixtureDir, "..", "parquet", .. parts]);
    private static string Image(string name) => Path.GetFullPath(name switch
    {
        "wide" => Path.Combine(TestData.FixtureDir, "images", "wide.png"),
        "tall" => Path.Combine(TestData.FixtureDir, "images", "tall.png"),
        "jpeg" => Path.Combine(TestData.FixtureDir, "..", "images", "jpeg", "base_420_48x40.jpg"),
        _ => Path.Combine(TestData.FixtureDir, "..", "images", "jpeg", "base_gray_17x13.jpg"),
    });

    private static string Json(string s) => System.Text.Json.JsonSerializer.Serialize(s);

    [Fact]
    public void Sharded_folder_reads_the_train_split_row_group_by_row_group()
    {
        using var ds = (ParquetDataset<SftExample>)DatasetReader.OpenSft(Fixture("sft"));
        Assert.Equal(8, ds.Count);
        Assert.Equal(["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"], ds.Files.Select(Path.GetFileName));
        Assert.Equal(5, ds.RowGroupCount);   // 2+2+1 and 2+1 rows (manifest.json, as DuckDB read them back)
        var all = ds.Examples(new BadRecordLog(BadRecordPolicy.Error)).ToList();
        Assert.Equal(5, ds.RowGroupReads);   // each row group decoded once in a file-order pass
        Assert.Equal([1, 1, 2, 0, 1, 1, 0, 1], all.Select(e => e.Images.Count));
        Assert.Equal("The second.", all[2].Messages[^1].Parts![0].Text);
        Assert.Equal(["system", "user", "assistant"], all[2].Messages.Select(m => m.Role));
        Assert.Equal(new RecordSource(ds.Files[1], 0) { RowGroup = 1 }, all[7].Source);
        Assert.Equal("embedded image", all[0].Images[0].Label);
        Assert.Equal("images[1].bytes", all[2].Images[1].FieldPath);

        using var test = DatasetReader.OpenSft(Fixture("sft"), new DatasetOptions { Split = "test" });
        Assert.Equal(2, test.Count);
        var e = Assert.Throws<FileNotFoundException>(() => DatasetReader.OpenSft(Fixture("sft"), new DatasetOptions { Split = "validation" }));
        Assert.Contains("no parquet files for split \"validation\"", e.Message);
        Assert.Contains("splits found: train, test", e.Message);
    }

    [Fact]
    public void Parquet_records_encode_exactly_like_the_same_records_in_jsonl()
    {
        using var tmp = new TempDataset();
        string jsonl = tmp.WriteLines("same.jsonl",
            $$"""{"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What colour is the left edge?"}]}, {"role": "assistant", "content": [{"type": "text", "text": "It is dark blue."}]}], "images": [{{Json(Image("wide"))}}]}""",
            $$"""{"messages": [{"role": "system", "content": [{"type": "text", "text": "Answer briefly."}]}, {"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "Which is taller?"}]}, {"role": "assistant", "content": [{"type": "text", "text": "The second."}]}], "images": [{{Json(Image("jpeg"))}}, {{Json(Image("tall"))}}]}""",
            """{"messages": [{"role": "user", "content": [{"type": "text", "text": "Say hi."}]}, {"role": "assistant", "content": [{"type": "text", "text": "Hi."}]}]}""",
            $$"""{"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Colour or gray?"}]}, {"role": "assistant", "content": [{"type": "text", "text": "Gray."}]}], "images": [{{Json(Image("gray"))}}]}""");
        using var fromJsonl = DatasetReader.OpenSft(jsonl, new DatasetOptions { AllowOutsideRoot = true });
        using var fromParquet = DatasetReader.OpenSft(Fixture("sft", "data", "train-00000-of-00002.parquet"));
        var encoder = new SftEncoder(TestData.Tiny, new EncodingOptions());
        foreach (var (j, p) in new[] { (0, 0), (1, 2), (2, 3), (3, 4) })
        {
            var a = encoder.Encode(fromJsonl.Read(j))!;
            var b = encoder.Encode(fromParquet.Read(p))!;
            Assert.Equal(a.InputIds, b.InputIds);
            Assert.Equal(a.Labels, b.Labels);
            Assert.Equal(a.ImageRows, b.ImageRows);
            Assert.Equal(a.Images?.PixelValues, b.Images?.PixelValues);   // PNG and JPEG bytes decode to the same pixels
        }
    }

    [Fact]
    public void Dpo_and_flat_string_layouts_map_onto_the_jsonl_examples()
    {
        using var dpo = DatasetReader.OpenPreference(Fixture("dpo"));
        Assert.Equal(3, dpo.Count);
        var pair = dpo.Read(2);
        Assert.Equal("It is a JPEG.", pair.Chosen[0].Parts![0].Text);
        Assert.Equal("It is a PNG.", pair.Rejected[0].Parts![0].Text);
        Assert.Equal((48, 40), (pair.Images[0].Load().Width, pair.Images[0].Load().Height));

        using var pc = DatasetReader.OpenSft(Fixture("flat", "prompt_completion.parquet"));
        var first = pc.Read(0);
        Assert.Equal(1, first.SupervisedFrom);
        Assert.Equal("image.bytes", first.Images[0].FieldPath);
        Assert.Equal(["image", "text"], first.Messages[0].Parts!.Select(p => p.Type));   // images go first in the user turn
        Assert.Equal(["image", "text"], pc.Read(1).Messages[0].Parts!.Select(p => p.Type)); // "<image>Is it tall?"
        Assert.Empty(pc.Read(2).Images);                                                  // a null image

        using var strings = DatasetReader.OpenSft(Fixture("flat", "string_messages.parquet"));
        Assert.Equal(["image", "text"], strings.Read(0).Messages[0].Parts!.Select(p => p.Type));
        Assert.Equal("Hi!", strings.Read(1).Messages[1].Parts![0].Text);

        using var dpoStrings = DatasetReader.OpenPreference(Fixture("flat", "dpo_strings.parquet"));
        Assert.Equal("No.", dpoStrings.Read(1).Chosen[0].Parts![0].Text);
        Assert.Single(dpoStrings.Read(1).Images);
    }

    [Fact]
    public void Errors_name_file_row_group_row_and_column()
    {
        string bad = Fixture("bad", "train.parquet");
        using var ds = DatasetReader.OpenSft(bad);
        Assert.Equal(4, ds.Count);
        ds.Read(2);
        var e = Assert.Throws<DatasetRecordException>(() => ds.Read(3));
        Assert.Equal($"{bad}: row group 1, row 1: messages[0].content[0].type: unknown content type \"video\" (expected \"text\" or \"image\")", e.Message);
        var log = new BadRecordLog(BadRecordPolicy.Skip);
        Assert.Equal(3, ds.Examples(log).Count());
        Assert.Equal(1, log.SkippedCount);

        using var notImage = DatasetReader.OpenSft(Fixture("bad", "not_an_image.parquet"));
        var img = Assert.Throws<DatasetRecordException>(() => notImage.Read(0).Images[0].Load());
        Assert.StartsWith($"{Fixture("bad", "not_an_image.parquet")}: row group 0, row 0: images[0].bytes: cannot decode image", img.Message);

        using var noColumns = DatasetReader.OpenSft(Fixture("bad", "no_columns.parquet"));
        var cols = Assert.Throws<DatasetRecordException>(() => noColumns.Read(0));
        Assert.EndsWith("row group 0, row 0: expected \"messages\", or \"prompt\" and \"completion\" (the record has \"question\", \"answer\")", cols.Message);

        using var tmp = new TempDataset();
        string notParquet = tmp.WriteLines("fake.parquet", "{\"messages\": []}");
        var format = Assert.Throws<InvalidDataException>(() => DatasetReader.OpenSft(notParquet));
        Assert.StartsWith($"{notParquet}: not a readable parquet file", format.Message);
    }

    [Fact]
    public void A_hub_dataset_id_resolves_through_the_cache_with_split_and_config()
    {
        using var tmp = new TempDataset();
        const string commit = "1111111111111111111111111111111111111111";
        string snap = Path.Combine(tmp.Dir, "datasets--org--shapes", "snapshots", commit);
        foreach (var (config, file) in new[] { ("default", "train-00000-of-00002.parquet"), ("default", "train-00001-of-00002.parquet"), ("small", "test-00000-of-00001.parquet") })
        {
            Directory.CreateDirectory(Path.Combine(snap, config));
            File.Copy(Fixture("sft", "data", file), Path.Combine(snap, config, file));
        }
        Directory.CreateDirectory(Path.Combine(tmp.Dir, "datasets--org--shapes", "refs"));
        File.WriteAllText(Path.Combine(tmp.Dir, "datasets--org--shapes", "refs", "main"), commit);
        string? cache = Environment.GetEnvironmentVariable("HF_HUB_CACHE"), offline = Environment.GetEnvironmentVariable("HF_HUB_OFFLINE");
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", tmp.Dir);
        Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", "1");
        try
        {
            using var train = DatasetReader.OpenSft("org/shapes");
            Assert.Equal(8, train.Count);
            using var test = DatasetReader.OpenSft("org/shapes", new DatasetOptions { Split = "test", Config = "small" });
            Assert.Equal(2, test.Count);
            var e = Assert.Throws<FileNotFoundException>(() => DatasetReader.OpenSft("org/shapes", new DatasetOptions { Config = "large" }));
            Assert.Contains("no config \"large\"", e.Message);
            Assert.Contains("configs here: default, small", e.Message);
            var missing = Assert.Throws<VlmTune.Hub.HubException>(() => DatasetReader.OpenSft("org/absent"));
            Assert.Contains("HF_HUB_OFFLINE is set and the dataset is not in the Hugging Face cache", missing.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", cache);
            Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", offline);
        }
    }
}
