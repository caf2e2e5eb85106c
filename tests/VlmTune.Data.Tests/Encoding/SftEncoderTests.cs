using VlmTune.ChatTemplates;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Data.Tests.Support;

namespace VlmTune.Data.Tests.Encoding;

public class SftEncoderTests
{
    static List<EncodedSample> EncodeFixture(string file, EncodingOptions? options = null, SmolVlmProcessor? processor = null)
    {
        var encoder = new SftEncoder(processor ?? TestData.Tiny, options);
        using var ds = DatasetReader.OpenSft(Path.Combine(TestData.FixtureDir, file));
        return Enumerable.Range(0, ds.Count).Select(i => encoder.Encode(ds.Read(i))!).ToList();
    }

    /// <summary>Decodes each maximal run of supervised tokens.</summary>
    static List<string> SupervisedRuns(EncodedSample s)
    {
        var runs = new List<string>();
        var current = new List<int>();
        for (int t = 0; t <= s.Length; t++)
        {
            if (t < s.Length && s.Labels[t] != LabelMask.IgnoreIndex) { current.Add(s.Labels[t]); continue; }
            if (current.Count > 0) runs.Add(TestData.Tiny.Tokenizer.Decode(current.ToArray()));
            current.Clear();
        }
        return runs;
    }

    [Fact]
    public void Multi_turn_assistant_spans_are_exact()
    {
        var samples = EncodeFixture("sft.jsonl");
        Assert.Equal([" It is dark blue.<end_of_utterance>"], SupervisedRuns(samples[0]));
        Assert.Equal([" The second one.<end_of_utterance>", " It is wide, not tall.<end_of_utterance>"], SupervisedRuns(samples[1]));
        Assert.Equal([" A red and green gradient.<end_of_utterance>"], SupervisedRuns(samples[2]));
        Assert.Equal([" Hello!<end_of_utterance>"], SupervisedRuns(samples[3]));
    }

    [Fact]
    public void Rendered_text_matches_the_spec_prompt_format()
    {
        var s = EncodeFixture("sft.jsonl")[3];
        Assert.Equal("<|im_start|>User: Say hello.<end_of_utterance>\nAssistant: Hello!<end_of_utterance>\n",
            TestData.Tiny.Tokenizer.Decode(s.InputIds));
        var image = EncodeFixture("sft.jsonl")[0];
        string text = TestData.Tiny.Tokenizer.Decode(image.InputIds);
        Assert.StartsWith("<|im_start|>User:<fake_token_around_image><row_1_col_1><image><image><image><image><fake_token_around_image><row_1_col_2>", text);
        Assert.Contains("\n\n<fake_token_around_image><global-img><image><image><image><image><fake_token_around_image>What colour", text);
    }

    [Fact]
    public void No_image_token_is_ever_supervised_and_counts_match_the_grids()
    {
        var p = TestData.Tiny;
        foreach (bool assistantOnly in new[] { true, false })
        {
            foreach (var s in EncodeFixture("sft.jsonl", new EncodingOptions { AssistantOnly = assistantOnly }))
            {
                for (int t = 0; t < s.Length; t++)
                    if (p.TokenIds.IsImageRelated(s.InputIds[t])) Assert.Equal(LabelMask.IgnoreIndex, s.Labels[t]);
                int expected = s.ImageRows.Select((r, i) => p.Expander.ImageTokenCount(r, s.ImageCols[i])).Sum();
                Assert.Equal(expected, s.InputIds.Count(id => id == p.TokenIds.Image));
                // Structural tokens (F, <row_r_col_c>, <global-img>, row newlines) are image tokens too. The tiny
                // tokenizer has no "\n\n" merge, so each image costs one token more than StructuralTokenCount (256M).
                Assert.Equal(s.ImageRows.Select((r, i) => p.Expander.StructuralTokenCount(r, s.ImageCols[i]) + (r > 0 ? 1 : 0)).Sum(), s.ImageTokenCount);
            }
        }
    }

    [Fact]
    public void Image_grids_follow_the_processor()
    {
        var samples = EncodeFixture("sft.jsonl");
        Assert.Equal([2], samples[0].ImageRows);       // wide.png 40x24 → 64x64 → 2x2
        Assert.Equal([2], samples[0].ImageCols);
        Assert.Equal([2, 2], samples[1].ImageRows);    // tall.png 20x50 → 32x64 → 2 rows, 1 col
        Assert.Equal([2, 1], samples[1].ImageCols);
        Assert.Equal(5, samples[0].Images!.TileCount);
        Assert.Equal(8, samples[1].Images!.TileCount);
        Assert.Empty(samples[3].ImageRows);
    }

    [Fact]
    public void Grid_only_encoding_equals_pixel_encoding()
    {
        var full = EncodeFixture("sft.jsonl");
        var light = EncodeFixture("sft.jsonl", new EncodingOptions { LoadPixels = false });
        for (int i = 0; i < full.Count; i++)
        {
            Assert.Equal(full[i].InputIds, light[i].InputIds);
            Assert.Equal(full[i].Labels, light[i].Labels);
            Assert.Null(light[i].Images);
        }
    }

    [Fact]
    public void Assistant_only_false_supervises_every_non_image_token()
    {
        var s = EncodeFixture("sft.jsonl", new EncodingOptions { AssistantOnly = false })[0];
        Assert.Equal(s.Length - s.ImageTokenCount, s.SupervisedCount);
        for (int t = 0; t < s.Length; t++)
            Assert.True(s.Labels[t] == s.InputIds[t] || s.Labels[t] == LabelMask.IgnoreIndex);
        Assert.Equal(s.InputIds[0], s.Labels[0]);             // <|im_start|> and "User" are supervised now
        Assert.Equal(s.InputIds[1], s.Labels[1]);
    }

    [Fact]
    public void Prompt_completion_supervises_only_the_completion()
    {
        var samples = EncodeFixture("prompt_completion.jsonl");
        Assert.Equal([" Blue.<end_of_utterance>"], SupervisedRuns(samples[0]));
        Assert.Equal([" Three.<end_of_utterance>"], SupervisedRuns(samples[1]));
    }

    [Fact]
    public void Overflow_error_names_the_record_and_counts()
    {
        var p = TestData.Tiny.WithMaxLength(40);
        var e = Assert.Throws<DatasetRecordException>(() => EncodeFixture("sft.jsonl", processor: p));
        Assert.Matches(@"sft\.jsonl:1: sample is \d+ tokens \(\d+ text \+ \d+ image\), more than the max length 40", e.Message);
    }

    [Fact]
    public void A_huge_record_is_refused_from_its_text_length_before_tokenizing()
    {
        // 8 MB of text against a max length of 64: refused by the bound (no tokenization), under error and drop.
        string huge = string.Concat(Enumerable.Repeat("lorem ipsum ", 700_000));
        var example = new SftExample(new RecordSource("big.jsonl", 1),
            [new ChatMessage("user", "q"), new ChatMessage("assistant", huge)], [], SupervisedFrom: 0);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<DatasetRecordException>(() => new SftEncoder(TestData.Tiny.WithMaxLength(64)).Encode(example));
        Assert.StartsWith("big.jsonl:1: sample is at least ", e.Message);
        Assert.Contains("it was not tokenized", e.Message);
        Assert.Null(new SftEncoder(TestData.Tiny.WithMaxLength(64), new EncodingOptions { Overflow = OverflowPolicy.Drop }).Encode(example));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"{sw.Elapsed}");
        // The bound is a true lower bound (it never refuses what would fit).
        foreach (var text in new[] { huge[..1200], "<|im_start|>user<image>x", new string(' ', 500), "ünïcödé 日本語 🙂🙂🙂", "aaaaaaaaaaaaaaaaaaaaaaaa" })
            Assert.True(TestData.Tiny.Tokenizer.MinTokenCount(text.Length) <= TestData.Tiny.Tokenizer.Encode(text, false).Length, text);
    }

    [Fact]
    public void Overflow_drop_returns_null()
    {
        var encoder = new SftEncoder(TestData.Tiny.WithMaxLength(40), new EncodingOptions { Overflow = OverflowPolicy.Drop });
        using var ds = DatasetReader.OpenSft(Path.Combine(TestData.FixtureDir, "sft.jsonl"));
        Assert.Null(encoder.Encode(ds.Read(0)));
        Assert.NotNull(encoder.Encode(ds.Read(3)));     // text only, short
    }

    [Fact]
    public void Shrink_images_falls_back_to_the_global_image()
    {
        // wide.png split: 4 tiles + global = 5·4 <image>; global only: 1·4. Record 1 is 71 tokens split, 26 global-only.
        var split = EncodeFixture("sft.jsonl")[0];
        var encoder = new SftEncoder(TestData.Tiny.WithMaxLength(split.Length - 1), new EncodingOptions { Overflow = OverflowPolicy.ShrinkImages });
        using var ds = DatasetReader.OpenSft(Path.Combine(TestData.FixtureDir, "sft.jsonl"));
        var s = encoder.Encode(ds.Read(0))!;
        Assert.True(s.ShrunkImages);
        Assert.Equal([0], s.ImageRows);
        Assert.Equal(1, s.Images!.TileCount);
        Assert.Equal(4, s.InputIds.Count(id => id == TestData.Tiny.TokenIds.Image));
        Assert.Equal([" It is dark blue.<end_of_utterance>"], SupervisedRuns(s));
    }

    [Fact]
    public void Truncate_text_cuts_after_the_last_image_only()
    {
        var full = EncodeFixture("sft.jsonl")[0];
        int lastImage = Array.FindLastIndex(full.InputIds, TestData.Tiny.TokenIds.IsImageRelated);
        var options = new EncodingOptions { TruncateText = true };
        using var ds = DatasetReader.OpenSft(Path.Combine(TestData.FixtureDir, "sft.jsonl"));

        var cut = new SftEncoder(TestData.Tiny.WithMaxLength(full.Length - 2), options).Encode(ds.Read(0))!;
        Assert.True(cut.Truncated);
        Assert.Equal(full.InputIds[..(full.Length - 2)], cut.InputIds);
        Assert.Equal(full.Labels[..(full.Length - 2)], cut.Labels);

        // A cut through the image span is refused even with TruncateText.
        var e = Assert.Throws<DatasetRecordException>(() => new SftEncoder(TestData.Tiny.WithMaxLength(lastImage), options).Encode(ds.Read(0)));
        Assert.Contains("more than the max length", e.Message);
    }
}

public class SftEncoderTemplateTests
{
    [Fact]
    public void A_template_that_is_not_prefix_stable_is_reported()
    {
        var tiny = TestData.Tiny;
        // Puts the message count first: no partial render is a prefix of the full one.
        var template = new VlmTune.ChatTemplates.ChatTemplate(
            "{{ messages|length }}" + tiny.ChatTemplate.Source, tiny.ChatTemplate.BosToken, tiny.ChatTemplate.EosToken);
        var processor = new SmolVlmProcessor(tiny.Tokenizer, template, tiny.ImageConfig, tiny.PadId, 512);
        using var ds = DatasetReader.OpenSft(Path.Combine(TestData.FixtureDir, "sft.jsonl"));
        var e = Assert.Throws<DatasetRecordException>(() => new SftEncoder(processor).Encode(ds.Read(3)));
        Assert.Contains("sft.jsonl:4: messages[1]: the chat template does not render conversations prefix by prefix", e.Message);
        // assistantOnly = false does not need the spans.
        Assert.NotNull(new SftEncoder(processor, new EncodingOptions { AssistantOnly = false }).Encode(ds.Read(3)));
    }

    static SftExample WithImage(string fixture, string file, int line)
    {
        byte[] png = File.ReadAllBytes(Path.Combine(TestData.FixtureDir, "..", "processor", "nonrgb", fixture));
        var source = new RecordSource(file, line);
        return new SftExample(source,
            [new ChatMessage("user", [ContentPart.Image(), ContentPart.FromText("what is it?")]), new ChatMessage("assistant", "a test")],
            [ImageSource.FromBytes(source, "images[0]", png)], SupervisedFrom: 1);
    }

    [Fact]
    public void Non_rgb_images_follow_the_processor_option_and_a_refused_image_names_its_record()
    {
        var t5 = TestData.Tiny;
        var t4 = TestData.Tiny.WithNonRgbImages(Processing.NonRgbImages.Transformers4);
        // RGBA: alpha dropped (5.x) vs composited over white per tile (4.x) — other pixels, same grid.
        var a = new SftEncoder(t5).Encode(WithImage("rgba.png", "rgba.jsonl", 1))!;
        var b = new SftEncoder(t4).Encode(WithImage("rgba.png", "rgba.jsonl", 1))!;
        Assert.Equal(a.InputIds, b.InputIds);
        Assert.NotEqual(a.Images!.PixelValues, b.Images!.PixelValues);
        // Gray + alpha: fine under 5.x; refused under 4.x from the header alone (planning, no pixels), naming the record.
        Assert.NotNull(new SftEncoder(t5).Encode(WithImage("la.png", "la.jsonl", 7)));
        foreach (bool pixels in new[] { false, true })
        {
            var e = Assert.Throws<DatasetRecordException>(() =>
                new SftEncoder(t4, new EncodingOptions { LoadPixels = pixels }).Encode(WithImage("la.png", "la.jsonl", 7)));
            Assert.StartsWith("la.jsonl:7: images[0]", e.Message);
            Assert.Contains("transformers 4.x", e.Message);
        }
    }
}
