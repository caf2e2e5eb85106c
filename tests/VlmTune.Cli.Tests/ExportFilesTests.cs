using System.Text.Json.Nodes;
using VlmTune.Checkpoints.Export;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Cli.Tests;

/// <summary>`vlmtune merge` output holds what AutoModelForVision2Seq / AutoProcessor load, checked against the input.</summary>
[Collection("console")]
public class ExportFilesTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-export-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }

    [Fact]
    public void Merge_output_carries_every_processor_file_and_the_architecture()
    {
        string model = Path.Combine(_tmp, "base"), adapter = Path.Combine(_tmp, "adapter"), merged = Path.Combine(_tmp, "merged");
        Assert.Equal(0, CliHarness.Run("init", "--like", "tiny", "--out", model, "--dtype", "f32").Code);
        // An input as a Hub download has it: slow-tokenizer files too, no generation_config.json, no architectures.
        File.WriteAllText(Path.Combine(model, "vocab.json"), "{\"a\": 0}");
        File.WriteAllText(Path.Combine(model, "merges.txt"), "#version: 0.2\n");
        File.WriteAllText(Path.Combine(model, "added_tokens.json"), "{}");
        File.WriteAllText(Path.Combine(model, "README.md"), "model card");
        File.Delete(Path.Combine(model, "generation_config.json"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "config.json")))!.AsObject();
        config.Remove("architectures");
        File.WriteAllText(Path.Combine(model, "config.json"), config.ToJsonString());
        var m = SmolVlmModel.Load(model, CpuBackend.Device, out _);
        AdapterSet.Apply(m, new LoraSettings { Targets = TargetModules.FromNames("q_proj"), Lora = new LoraOptions { Rank = 2, Alpha = 4 } }, 1)
            .Save(adapter, "tiny", model);

        var (code, output, err) = CliHarness.Run("merge", "--model", model, "--adapter", adapter, "--out", merged, "--dtype", "f32");
        Assert.True(code == 0, err);
        Assert.Contains("files for transformers (AutoModelForVision2Seq / AutoProcessor)", output);
        Assert.DoesNotContain("file problem(s)", err);

        var outConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(merged, "config.json")))!;
        Assert.Equal("Idefics3ForConditionalGeneration", outConfig["architectures"]![0]!.GetValue<string>());
        foreach (var f in new[] { "vocab.json", "merges.txt", "added_tokens.json", "tokenizer.json", "tokenizer_config.json", "chat_template.json",
                     "preprocessor_config.json", "processor_config.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(model, f)), File.ReadAllBytes(Path.Combine(merged, f)));
        Assert.False(File.Exists(Path.Combine(merged, "README.md")));
        Assert.False(File.Exists(Path.Combine(merged, "adapter_config.json")));
        var gen = JsonNode.Parse(File.ReadAllText(Path.Combine(merged, "generation_config.json")))!;
        var text = config["text_config"]!;
        Assert.Equal(text["eos_token_id"]!.GetValue<int>(), gen["eos_token_id"]!.GetValue<int>());
        Assert.Equal(text["bos_token_id"]!.GetValue<int>(), gen["bos_token_id"]!.GetValue<int>());
        Assert.Contains("generation_config.json: derived from config.json's token ids", output);
        Assert.Contains("vocab.json: copied from the adapter", output);   // the adapter keeps the processor files it was trained with
        Assert.Contains("config.json: architectures set to [Idefics3ForConditionalGeneration]", output);
        Assert.Empty(Directory.GetFiles(merged, "*.tmp"));
    }

    [Fact]
    public void Missing_processor_files_and_changed_config_are_reported()
    {
        string input = Path.Combine(_tmp, "in"), output = Path.Combine(_tmp, "out");
        Directory.CreateDirectory(input);
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(input, "config.json"), """{"model_type": "smolvlm", "architectures": ["SmolVLMForConditionalGeneration"], "text_config": {"eos_token_id": 2}}""");
        File.WriteAllText(Path.Combine(output, "config.json"), """{"model_type": "smolvlm", "architectures": ["SmolVLMForConditionalGeneration"], "text_config": {"eos_token_id": 3}}""");
        var report = HfExportFiles.Complete(input, null, output);
        Assert.Contains(report, e => e.Problem && e.File == "config.json" && e.Status == "differs from the input's in text_config");
        Assert.Contains(report, e => e.Problem && e.File == "tokenizer.json");
        Assert.Contains(report, e => e.Problem && e.File == "preprocessor_config.json");
        Assert.Contains(report, e => e.Problem && e.File == "chat_template.json");
    }
}
