using System.Text.Json;
using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Models.SmolVlm.Init;

namespace VlmTune.Models.SmolVlm.Tests.Init;

public class InitPresetTests
{
    static Dictionary<string, int> AddedIds(string tokenizerJson)
    {
        using var doc = JsonDocument.Parse(tokenizerJson);
        return doc.RootElement.GetProperty("added_tokens").EnumerateArray()
            .ToDictionary(t => t.GetProperty("content").GetString()!, t => t.GetProperty("id").GetInt32());
    }

    [Fact]
    public void Tiny_preset_matches_the_tiny_processing_files()
    {
        var p = InitPreset.Find("tiny");
        Assert.Equal(4, p.Config.ImageSeqLen);                 // (32/8)² / 2²
        Assert.Equal(p.MaxImageSize, p.Config.Vision.ImageSize);
        var files = p.BuildFiles(InitTestSupport.TinyTokenizerFiles(), out var notes);
        Assert.Empty(notes);
        Assert.Equal(File.ReadAllText(Path.Combine(InitTestSupport.TinyModelDir, "tokenizer.json")), files["tokenizer.json"]);
        Assert.Equal(4038, AddedIds(files["tokenizer.json"])["<image>"]);
    }

    [Theory]
    [InlineData("smolvlm-256m", 256_484_928L)]
    [InlineData("smolvlm-500m", 507_482_304L)]
    [InlineData("smolvlm-2.2b", 2_246_272_880L)]
    public void Real_presets_have_the_spec_parameter_counts(string name, long parameters) =>
        Assert.Equal(parameters, SmolVlmWeightNames.CountParameters(InitPreset.Find(name).Config));

    [Fact]
    public void Stretched_tokenizer_has_the_256M_ids()
    {
        var files = InitPreset.Find("smolvlm-256m").BuildFiles(InitTestSupport.TinyTokenizerFiles(), out var notes);
        Assert.Empty(notes);
        var ids = AddedIds(files["tokenizer.json"]);
        Assert.Equal(0, ids["<|endoftext|>"]);                  // base specials stay
        Assert.Equal(1, ids["<|im_start|>"]);
        Assert.Equal(2, ids["<|im_end|>"]);
        Assert.Equal(49152, ids["<global-img>"]);               // spec §1.5
        Assert.Equal(49153, ids["<row_1_col_1>"]);
        Assert.Equal(49188, ids["<row_6_col_6>"]);
        Assert.Equal(49189, ids["<fake_token_around_image>"]);
        Assert.Equal(49190, ids["<image>"]);
        Assert.Equal(49191, ids["<|reserved_special_token_0|>"]);
        Assert.Equal(49279, ids["<end_of_utterance>"]);
        using var doc = JsonDocument.Parse(files["tokenizer.json"]);
        var vocab = doc.RootElement.GetProperty("model").GetProperty("vocab");
        Assert.Equal(49152, vocab.EnumerateObject().Count());
        Assert.Equal(4000, vocab.GetProperty(TokenizerVocabLayout.Filler(4000)).GetInt32());
        Assert.Contains("\"eos_token_id\": 49279", files["generation_config.json"]);
        Assert.Contains("\"longest_edge\": 2048", files["preprocessor_config.json"]);
        Assert.Contains("\"longest_edge\": 512", files["preprocessor_config.json"]);
        Assert.Contains("\"image_seq_len\": 64", files["processor_config.json"]);
    }

    [Fact]
    public void The_2B_preset_writes_no_tokenizer_and_says_why()
    {
        var files = InitPreset.Find("smolvlm-2.2b").BuildFiles(InitTestSupport.TinyTokenizerFiles(), out var notes);
        Assert.False(files.ContainsKey("tokenizer.json"));
        Assert.Contains(notes, n => n.Contains("tokenizer") && n.Contains("49153"));
        Assert.Contains("\"eos_token_id\": 49154", files["generation_config.json"]);
        Assert.Contains("\"image_seq_len\": 81", files["processor_config.json"]);
        Assert.Contains("\"longest_edge\": 1536", files["preprocessor_config.json"]);
    }

    [Fact]
    public void Unknown_preset_lists_the_names()
    {
        var e = Assert.Throws<ArgumentException>(() => InitPreset.Find("smolvlm-7b"));
        Assert.Contains("smolvlm-256m", e.Message);
        Assert.Contains("tiny", e.Message);
    }

    [Fact]
    public void Stretch_refuses_a_sparse_vocab() =>
        Assert.Throws<FormatException>(() => TokenizerVocabLayout.Stretch("""{"model": {"vocab": {"a": 0, "b": 2}}, "added_tokens": []}"""));
}
