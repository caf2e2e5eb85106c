using System.Runtime.InteropServices;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Data;
using VlmTune.Models.SmolVlm.Init;
using VlmTune.Tokenizers;

namespace VlmTune.Cli.Tests;

/// <summary>End-to-end tests of `init`, `inspect model`, `forward` and `generate` on the tiny preset.</summary>
[Collection("console")]
public sealed class ModelCommandsTests : IDisposable
{
    static readonly string Root = FindRoot();
    static string TinyFixture => Path.Combine(Root, "tests", "fixtures", "data", "tiny-model");
    static string Image => Path.Combine(Root, "tests", "fixtures", "data", "images", "wide.png");
    readonly string _tmp = Path.Combine(Path.GetTempPath(), "vlmtune-cli-model-" + Guid.NewGuid().ToString("N"));
    readonly string _model;

    public ModelCommandsTests()
    {
        Directory.CreateDirectory(_tmp);
        _model = Path.Combine(_tmp, "tiny");
        var (code, _, err) = Run("init", "--like", "tiny", "--out", _model, "--seed", "11");
        Assert.True(code == 0, err);
    }

    public void Dispose()
    {
        try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { }
    }

    static string FindRoot() => CliHarness.RepoRoot();

    static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    static void AssertCleanFailure((int Code, string Out, string Err) r, string expected)
    {
        Assert.Equal(1, r.Code);
        Assert.Contains(expected, r.Err);
        Assert.DoesNotContain("   at ", r.Out + r.Err);
    }

    string Write(string name, string text)
    {
        string path = Path.Combine(_tmp, name);
        File.WriteAllText(path, text);
        return path;
    }

    static float[] Floats(string file, string tensor, out long[] shape)
    {
        using var f = SafeTensorsFile.Open(file);
        shape = f.GetInfo(tensor).Shape;
        return MemoryMarshal.Cast<byte, float>(f.GetBytes(tensor)).ToArray();
    }

    [Fact]
    public void Embedded_tokenizer_files_equal_the_fixtures()
    {
        foreach (string name in new[] { "tokenizer.json", "tokenizer_config.json", "chat_template.json" })
            Assert.Equal(File.ReadAllText(Path.Combine(TinyFixture, name)), File.ReadAllText(Path.Combine(_model, name)));
    }

    [Fact]
    public void Inspect_model_counts_the_tiny_checkpoint()
    {
        var (code, output, _) = Run("inspect", "model", _model);
        Assert.Equal(0, code);
        Assert.Contains("parameters: 634464\n", output.ReplaceLineEndings("\n"));
        Assert.Contains("tensors: 59\n", output.ReplaceLineEndings("\n"));
        Assert.Contains("dtypes: F32 (59)", output);
        Assert.Contains("lm_head: 264192 parameters in 1 tensors", output);
    }

    [Fact]
    public void Inspect_model_reports_shapes_that_disagree_with_the_config()
    {
        string config = Path.Combine(_model, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"intermediate_size\": 128", "\"intermediate_size\": 96"));
        var r = Run("inspect", "model", _model);
        AssertCleanFailure(r, "does not fit its config");
        Assert.Contains("model.text_model.layers.0.mlp.up_proj.weight: [128, 64], the config needs [96, 64]", r.Out);
        Assert.Contains("shape mismatches: 6", r.Out);
    }

    [Fact]
    public void Forward_with_an_expanded_image_is_deterministic_and_writes_hidden()
    {
        string input = Write("in.json", $$"""{"input_ids": [1, 4038, 300, 301], "images": ["{{Image.Replace("\\", "/")}}"], "expand_images": true}""");
        string out1 = Path.Combine(_tmp, "a.safetensors"), out2 = Path.Combine(_tmp, "b.safetensors");
        var (code, output, err) = Run("forward", "--model", _model, "--input", input, "--out", out1, "--hidden");
        Assert.True(code == 0, err);
        Assert.Contains("logits [1, ", output);
        var logits = Floats(out1, "logits", out var shape);
        Assert.Equal(3, shape.Length);
        Assert.Equal(4128, shape[2]);
        Assert.True(shape[1] > 4);                                              // the <image> was expanded
        var hidden = Floats(out1, "hidden", out var hiddenShape);
        Assert.Equal(new long[] { 1, shape[1], 64 }, hiddenShape);
        Assert.All(hidden, x => Assert.True(float.IsFinite(x)));
        Assert.Equal(0, Run("forward", "--model", _model, "--input", input, "--out", out2).Code);
        Assert.Equal(logits, Floats(out2, "logits", out _));
    }

    [Fact]
    public void Forward_takes_a_batch_of_ids_with_a_mask()
    {
        string input = Write("in.json", """{"input_ids": [[1, 2, 3, 4], [5, 6, 7, 2]], "attention_mask": [[1, 1, 1, 1], [1, 1, 1, 0]]}""");
        string output = Path.Combine(_tmp, "o.safetensors");
        var (code, _, err) = Run("forward", "--model", _model, "--input", input, "--out", output);
        Assert.True(code == 0, err);
        Floats(output, "logits", out var shape);
        Assert.Equal(new long[] { 2, 4, 4128 }, shape);
    }

    [Fact]
    public void Forward_bad_inputs_fail_with_clear_messages()
    {
        string output = Path.Combine(_tmp, "o.safetensors");
        AssertCleanFailure(Run("forward", "--model", Path.Combine(_tmp, "nope"), "--input", Write("a.json", "{}"), "--out", output), "does not exist");
        AssertCleanFailure(Run("forward", "--model", _model, "--input", Write("b.json", "{\"input_ids\": [1, 2"), "--out", output), "invalid JSON");
        AssertCleanFailure(Run("forward", "--model", _model, "--input", Write("c.json", "{\"input_ids\": [1, 99999]}"), "--out", output), "outside the vocabulary");
        AssertCleanFailure(Run("forward", "--model", _model, "--input", Write("d.json", "{\"input_ids\": [1, \"x\"]}"), "--out", output), "input_ids[1] is not an integer");
        AssertCleanFailure(Run("forward", "--model", _model, "--input", Write("e.json", "{\"ids\": [1]}"), "--out", output), "unknown field \"ids\"");
        AssertCleanFailure(Run("forward", "--model", _model, "--input", Write("f.json", "{\"input_ids\": [1, 4038]}"), "--out", output), "<image> tokens but no images");
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Generate_with_an_image_prints_text_and_speed()
    {
        var (code, output, err) = Run("generate", "--model", _model, "--image", Image, "--prompt", "What is this?", "--max-new-tokens", "6");
        Assert.True(code == 0, err);
        Assert.Contains("tokens/s", err);
        Assert.Matches("6 new tokens|stopped at <end_of_utterance>", err);
        var (code2, output2, _) = Run("generate", "--model", _model, "--image", Image, "--prompt", "What is this?", "--max-new-tokens", "6");
        Assert.Equal(0, code2);
        Assert.Equal(output, output2);                                          // greedy is deterministic
    }

    [Fact]
    public void Generate_from_ids_samples_reproducibly()
    {
        string[] args = ["generate", "--model", _model, "--input-ids", "1,2,3", "--max-new-tokens", "5", "--temperature", "0.9", "--top-p", "0.8", "--seed", "4"];
        var a = Run(args);
        Assert.True(a.Code == 0, a.Err);
        Assert.Equal(a.Out, Run(args).Out);
    }

    [Fact]
    public void Generate_refuses_bad_flags()
    {
        AssertCleanFailure(Run("generate", "--model", _model, "--input-ids", "1", "--adapter", _tmp), "not a PEFT adapter folder");
        AssertCleanFailure(Run("generate", "--model", _model, "--prompt", "hi", "--input-ids", "1"), "exactly one of --prompt and --input-ids");
        AssertCleanFailure(Run("generate", "--model", _model, "--input-ids", "1,x"), "--input-ids: item 2");
        AssertCleanFailure(Run("generate", "--model", _model, "--prompt", "hi", "--image", Path.Combine(_tmp, "none.png")), "image not found");
    }

    [Fact]
    public void Init_refuses_bad_flags_and_a_non_empty_folder()
    {
        AssertCleanFailure(Run("init", "--like", "tiny", "--out", _model), "--force");
        AssertCleanFailure(Run("init", "--like", "tiny", "--out", Path.Combine(_tmp, "x"), "--dtype", "f16"), "--dtype: 'f16'");
        AssertCleanFailure(Run("init", "--like", "llama", "--out", Path.Combine(_tmp, "y")), "known: smolvlm-256m");
        var (code, _, err) = Run("init", "--like", "tiny", "--out", _model, "--force", "--dtype", "bf16");
        Assert.True(code == 0, err);
        Assert.Contains("dtypes: BF16 (59)", Run("inspect", "model", _model).Out);
    }

    [Fact]
    public void Stretched_256M_tokenizer_encodes_like_the_tiny_one_and_loads_as_a_processor()
    {
        var tinyFiles = new[] { "tokenizer.json", "tokenizer_config.json", "chat_template.json" }
            .ToDictionary(n => n, n => File.ReadAllText(Path.Combine(TinyFixture, n)));
        var files = InitPreset.Find("smolvlm-256m").BuildFiles(tinyFiles, out _);
        string dir = Path.Combine(_tmp, "p256");
        Directory.CreateDirectory(dir);
        foreach (var (name, content) in files) File.WriteAllText(Path.Combine(dir, name), content);

        var tiny = Tokenizer.FromFile(Path.Combine(TinyFixture, "tokenizer.json"));
        var processor = SmolVlmProcessor.FromDirectory(dir);
        Assert.Equal(49280, processor.Tokenizer.VocabSize);
        Assert.Equal(49190, processor.TokenIds.Image);
        Assert.Equal(49279, processor.TokenIds.EndOfUtterance);
        Assert.Equal(64, processor.ImageConfig.ImageSeqLen);
        string text = "<|im_start|>User:<image>Describe 12 cats, please!<end_of_utterance>\nAssistant:";
        int[] shifted = tiny.Encode(text, addSpecialTokens: false).Select(id => id >= 4000 ? id + 45152 : id).ToArray();
        Assert.Equal(shifted, processor.Tokenizer.Encode(text, addSpecialTokens: false));
        Assert.Equal(text, processor.Tokenizer.Decode(processor.Tokenizer.Encode(text, addSpecialTokens: false)));
    }
}
