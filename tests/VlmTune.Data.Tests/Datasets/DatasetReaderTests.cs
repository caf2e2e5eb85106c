using VlmTune.Data.Datasets;
using VlmTune.Data.Tests.Support;

namespace VlmTune.Data.Tests.Datasets;

public class DatasetReaderTests
{
    const string Good = """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}""";

    static DatasetRecordException SftError(string line, TempDataset? tmp = null, int lineNumber = 2, DatasetOptions? options = null)
    {
        using var own = tmp is null ? new TempDataset() : null;
        var dir = tmp ?? own!;
        string path = dir.WriteLines("train.jsonl", Good, line);
        using var ds = DatasetReader.OpenSft(path, options);
        var e = Assert.Throws<DatasetRecordException>(() => ds.Read(1));
        Assert.Equal(lineNumber, e.Record.Line);
        Assert.StartsWith($"{path}:{lineNumber}: ", e.Message);
        return e;
    }

    [Fact]
    public void Reads_the_fixture_formats()
    {
        using var sft = DatasetReader.OpenSft(Path.Combine(TestData.FixtureDir, "sft.jsonl"));
        Assert.Equal(4, sft.Count);
        var first = sft.Read(0);
        Assert.Equal(["user", "assistant"], first.Messages.Select(m => m.Role));
        Assert.Single(first.Images);
        Assert.EndsWith("wide.png", first.Images[0].FilePath);
        Assert.Equal(0, first.SupervisedFrom);
        var stringContent = sft.Read(2);
        Assert.Equal(["image", "text"], stringContent.Messages[0].Parts!.Select(p => p.Type));

        using var pc = DatasetReader.OpenSft(Path.Combine(TestData.FixtureDir, "prompt_completion.jsonl"));
        Assert.Equal(1, pc.Read(1).SupervisedFrom);
        Assert.Equal("assistant", pc.Read(1).Messages[1].Role);

        using var dpo = DatasetReader.OpenPreference(Path.Combine(TestData.FixtureDir, "dpo.jsonl"));
        var pair = dpo.Read(1);
        Assert.Equal("user", pair.Prompt[0].Role);
        Assert.Equal("assistant", pair.Chosen[0].Role);
        Assert.Equal("No, it is tall.", pair.Chosen[0].Parts![0].Text);
    }

    [Fact]
    public void Malformed_json_names_file_and_line()
    {
        var e = SftError("{\"messages\": [");
        Assert.Contains("malformed JSON", e.Message);
    }

    [Fact]
    public void Blank_lines_keep_line_numbers()
    {
        using var tmp = new TempDataset();
        string path = tmp.WriteLines("train.jsonl", Good, "", "   ", "{oops");
        using var ds = DatasetReader.OpenSft(path);
        Assert.Equal(2, ds.Count);
        Assert.Equal(4, Assert.Throws<DatasetRecordException>(() => ds.Read(1)).Record.Line);
    }

    [Theory]
    [InlineData("""{"text": "x"}""", null, "expected \"messages\", or \"prompt\" and \"completion\" (the record has \"text\")")]
    [InlineData("""[1, 2]""", null, "expected a JSON object, got a list")]
    [InlineData("""{"messages": "hi"}""", "messages", "expected a list of messages, got a string")]
    [InlineData("""{"messages": [{"content": "x"}]}""", "messages[0]", "missing field \"role\"")]
    [InlineData("""{"messages": [{"role": 3, "content": "x"}]}""", "messages[0].role", "expected a non-empty string, got a number")]
    [InlineData("""{"messages": [{"role": "user", "content": 5}]}""", "messages[0].content", "expected a string or a list of content parts, got a number")]
    [InlineData("""{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": [{"type": "video"}]}]}""", "messages[1].content[0].type", "unknown content type \"video\"")]
    [InlineData("""{"messages": [{"role": "user", "content": [{"type": "text"}]}]}""", "messages[0].content[0]", "missing field \"text\"")]
    [InlineData("""{"messages": [{"role": "user", "content": [{"type": "text", "text": "a <image> b"}]}]}""", "messages[0].content[0].text", "contains the literal <image>")]
    [InlineData("""{"messages": [{"role": "user", "content": "q"}]}""", "messages", "no assistant message")]
    [InlineData("""{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "images": "a.png"}""", "images", "expected a list of image paths, got a string")]
    [InlineData("""{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "images": [1]}""", "images[0]", "expected a path or data URI string, got a number")]
    [InlineData("""{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "images": ["missing.png"]}""", "images[0]", "image file not found")]
    [InlineData("""{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "images": ["data:text/plain;base64,AA=="]}""", "images[0]", "data URI must look like")]
    [InlineData("""{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "images": ["https://x/y.png"]}""", "images[0]", "URLs are not fetched")]
    public void Bad_records_name_the_field(string line, string? field, string problem)
    {
        var e = SftError(line);
        Assert.Equal(field, e.FieldPath);
        Assert.Contains(problem, e.Problem);
        if (field is not null) Assert.Contains($":2: {field}: ", e.Message);
    }

    [Fact]
    public void Placeholder_and_image_counts_must_match()
    {
        using var tmp = new TempDataset();
        tmp.WritePng("a.png", 8, 8);
        var e = SftError("""{"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "q"}]}, {"role": "assistant", "content": "a"}], "images": ["a.png"]}""", tmp);
        Assert.Equal("images", e.FieldPath);
        Assert.Contains("1 image(s) given but messages has 2 image placeholder(s)", e.Message);
    }

    [Fact]
    public void Images_without_placeholders_go_first_in_the_first_user_message()
    {
        using var tmp = new TempDataset();
        tmp.WritePng("a.png", 8, 8);
        string path = tmp.WriteLines("t.jsonl", """{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "images": ["a.png"]}""");
        using var ds = DatasetReader.OpenSft(path);
        Assert.Equal(["image", "text"], ds.Read(0).Messages[1].Parts!.Select(p => p.Type));
    }

    [Fact]
    public void A_symbolic_link_inside_the_root_that_points_outside_is_outside()
    {
        using var tmp = new TempDataset();
        tmp.WritePng("outside.png", 8, 8);
        Directory.CreateDirectory(Path.Combine(tmp.Dir, "data"));
        File.CreateSymbolicLink(Path.Combine(tmp.Dir, "data", "inside.png"), Path.Combine(tmp.Dir, "outside.png"));
        Directory.CreateSymbolicLink(Path.Combine(tmp.Dir, "data", "up"), tmp.Dir);
        foreach (var image in new[] { "inside.png", "up/outside.png" })
        {
            string line = $$"""{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "images": ["{{image}}"]}""";
            string path = tmp.WriteLines("data/t.jsonl", line);
            using (var ds = DatasetReader.OpenSft(path))
            {
                var e = Assert.Throws<DatasetRecordException>(() => ds.Read(0));
                Assert.Contains("outside the dataset folder", e.Message);
                Assert.Contains("through a symbolic link", e.Message);
                Assert.Contains("data.allow_outside_root", e.Message);
                Assert.DoesNotContain("allowOutsideRoot", e.Message);
            }
            using (var ds = DatasetReader.OpenSft(path, new DatasetOptions { AllowOutsideRoot = true }))
                Assert.Single(ds.Read(0).Images);
        }
    }

    [Fact]
    public void Paths_outside_the_root_need_the_option()
    {
        using var tmp = new TempDataset();
        tmp.WritePng("outside.png", 8, 8);
        Directory.CreateDirectory(Path.Combine(tmp.Dir, "data"));
        string line = """{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "images": ["../outside.png"]}""";
        string path = tmp.WriteLines("data/t.jsonl", line);
        using (var ds = DatasetReader.OpenSft(path))
        {
            var e = Assert.Throws<DatasetRecordException>(() => ds.Read(0));
            Assert.Equal("images[0]", e.FieldPath);
            Assert.Contains("outside the dataset folder", e.Message);
        }
        using var allowed = DatasetReader.OpenSft(path, new DatasetOptions { AllowOutsideRoot = true });
        Assert.EndsWith("outside.png", allowed.Read(0).Images[0].FilePath);
    }

    [Fact]
    public void Data_uris_decode_lazily_and_corrupt_bytes_name_the_record()
    {
        using var tmp = new TempDataset();
        string png = Convert.ToBase64String(File.ReadAllBytes(tmp.WritePng("a.png", 5, 4)));
        File.WriteAllBytes(Path.Combine(tmp.Dir, "bad.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        string path = tmp.WriteLines("t.jsonl",
            $$"""{"messages": [{"role": "user", "content": "<image>q"}, {"role": "assistant", "content": "a"}], "images": ["data:image/png;base64,{{png}}"]}""",
            """{"messages": [{"role": "user", "content": "<image>q"}, {"role": "assistant", "content": "a"}], "images": ["bad.png"]}""",
            """{"messages": [{"role": "user", "content": "<image>q"}, {"role": "assistant", "content": "a"}], "images": ["data:image/png;base64,@@@"]}""");
        using var ds = DatasetReader.OpenSft(path);
        var image = ds.Read(0).Images[0].Load();
        Assert.Equal((5, 4), (image.Width, image.Height));
        var bad = ds.Read(1);                                    // parsing does not decode
        var e = Assert.Throws<DatasetRecordException>(() => bad.Images[0].Load());
        Assert.StartsWith($"{path}:2: images[0]: cannot decode image", e.Message);
        e = Assert.Throws<DatasetRecordException>(() => ds.Read(2).Images[0].Load());
        Assert.Contains(":3: images[0]: data URI: the payload is not valid base64", e.Message);
    }

    [Fact]
    public void Preference_records_are_checked()
    {
        using var tmp = new TempDataset();
        string path = tmp.WriteLines("p.jsonl",
            """{"prompt": "q", "chosen": "a"}""",
            """{"prompt": "q", "chosen": [{"role": "assistant", "content": [{"type": "image"}]}], "rejected": "b"}""",
            """{"prompt": 3, "chosen": "a", "rejected": "b"}""");
        using var ds = DatasetReader.OpenPreference(path);
        Assert.Equal($"{path}:1: rejected: missing field", Assert.Throws<DatasetRecordException>(() => ds.Read(0)).Message);
        Assert.Contains(":2: chosen: images belong in the prompt", Assert.Throws<DatasetRecordException>(() => ds.Read(1)).Message);
        Assert.Contains(":3: prompt: expected a string or a list of messages, got a number", Assert.Throws<DatasetRecordException>(() => ds.Read(2)).Message);
    }

    [Fact]
    public void Invalid_utf8_is_a_bad_record_with_file_and_line_and_a_bom_is_accepted()
    {
        using var tmp = new TempDataset();
        byte[] good = System.Text.Encoding.UTF8.GetBytes(Good + "\n");
        // Line 2: a string holding a lone 0xFF byte (valid JSON syntax, invalid UTF-8).
        byte[] bad = [.. "{\"messages\": [{\"role\": \"user\", \"content\": \"q\u00ff"u8.ToArray()[..^2], 0xFF,
            .. "\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}\n"u8.ToArray()];
        string path = Path.Combine(tmp.Dir, "t.jsonl");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. good, .. bad, .. good]);
        using var ds = DatasetReader.OpenSft(path);
        var log = new BadRecordLog(BadRecordPolicy.Skip);
        Assert.Equal(2, ds.Examples(log).Count());   // the BOM-prefixed first line parses
        Assert.Equal(1, log.SkippedCount);
        Assert.Contains($"{path}:2: invalid UTF-8 at byte", log.Summary());
        var e = Assert.Throws<DatasetRecordException>(() => ds.Examples(new BadRecordLog(BadRecordPolicy.Error)).ToList());
        Assert.Equal(2, e.Record.Line);
    }

    [Fact]
    public void Skip_policy_counts_bad_records()
    {
        using var tmp = new TempDataset();
        string path = tmp.WriteLines("t.jsonl", Good, "{bad", Good, """{"x": 1}""", Good);
        using var ds = DatasetReader.OpenSft(path);
        var log = new BadRecordLog(BadRecordPolicy.Skip);
        Assert.Equal(3, ds.Examples(log).Count());
        Assert.Equal(2, log.SkippedCount);
        Assert.Contains(":2: malformed JSON", log.Summary());
        Assert.Equal([2, 4], log.FirstErrors.Select(e => e.Record.Line));

        var strict = new BadRecordLog(BadRecordPolicy.Error);
        Assert.Throws<DatasetRecordException>(() => ds.Examples(strict).ToList());
    }

    [Fact]
    public void Streaming_reads_follow_the_given_order()
    {
        using var tmp = new TempDataset();
        var lines = Enumerable.Range(0, 50).Select(i =>
            $$"""{"messages": [{"role": "user", "content": "q{{i}}"}, {"role": "assistant", "content": "a{{i}}"}]}""").ToArray();
        using var ds = DatasetReader.OpenSft(tmp.WriteLines("t.jsonl", lines));
        int[] order = SeededShuffle.Permutation(ds.Count, 7);
        var texts = ds.Examples(new BadRecordLog(BadRecordPolicy.Error), order).Select(e => e.Messages[0].Parts![0].Text).ToArray();
        Assert.Equal(order.Select(i => $"q{i}"), texts);
    }

    [Fact]
    public void Missing_file_is_reported()
    {
        var e = Assert.Throws<FileNotFoundException>(() => DatasetReader.OpenSft("/nonexistent/train.jsonl"));
        Assert.Contains("/nonexistent/train.jsonl", e.Message);
    }
}
