using System.Runtime.InteropServices;
using VlmTune.Checkpoints.Peft;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Tensors;

namespace VlmTune.Checkpoints.Tests.Peft;

public class PeftAdapterFileTests
{
    static PeftAdapterConfig Config => new() { TargetModules = ["q_proj"], R = 2, LoraAlpha = 4 };

    static PeftTensor T(string key, long[] shape) =>
        new(key, shape, Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(i => i * 0.25f - 1f).ToArray());

    [Fact]
    public void Save_writes_peft_keys_format_metadata_and_loads_back()
    {
        using var dir = new TempDir();
        var tensors = new[]
        {
            T("model.text_model.layers.0.self_attn.q_proj.lora_A.weight", [2, 4]),
            T("model.text_model.layers.0.self_attn.q_proj.lora_B.weight", [3, 2]),
            T("model.text_model.layers.0.self_attn.q_proj.lora_magnitude_vector", [3]),
            T("model.connector.modality_projection.proj.weight", [3, 5]),
        };
        PeftAdapterFile.Save(dir.Path, Config, tensors);
        Assert.Equal(["adapter_config.json", "adapter_model.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
        using (var f = SafeTensorsFile.Open(dir.File("adapter_model.safetensors")))
        {
            Assert.Equal("pt", f.Metadata["format"]);
            Assert.Equal(
            [
                "base_model.model.model.connector.modality_projection.proj.weight",
                "base_model.model.model.text_model.layers.0.self_attn.q_proj.lora_A.weight",
                "base_model.model.model.text_model.layers.0.self_attn.q_proj.lora_B.weight",
                "base_model.model.model.text_model.layers.0.self_attn.q_proj.lora_magnitude_vector",
            ], f.Names.Order(StringComparer.Ordinal));
            Assert.All(f.Tensors, t => Assert.Equal("F32", t.DTypeName));
        }
        var loaded = PeftAdapterFile.Load(dir.Path);
        Assert.Equal(Config.ToJson(), loaded.Config.ToJson());
        foreach (var t in tensors)
        {
            Assert.Equal(t.Shape, loaded.Tensors[t.Key].Shape);
            Assert.Equal(t.Data, loaded.Tensors[t.Key].Data);
        }
    }

    [Fact]
    public void Load_accepts_adapter_names_bf16_and_the_nested_text_layout()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("adapter_config.json"), Config.ToJson());
        var w = new SafeTensorsWriter();
        ushort[] bf = [0x3F80, 0xC000];                                       // 1.0, −2.0
        w.Add("base_model.model.model.text_model.model.layers.0.self_attn.q_proj.lora_A.default.weight", DType.BF16, [1, 2], MemoryMarshal.AsBytes(bf.AsSpan()).ToArray());
        w.Add("base_model.model.model.text_model.layers.0.self_attn.q_proj.lora_magnitude_vector.default.weight", DType.F32, [1], BitConverter.GetBytes(3f));
        w.Add("base_model.model.model.connector.modality_projection.proj.modules_to_save.default.weight", DType.F32, [1], BitConverter.GetBytes(4f));
        w.WriteFile(dir.File("adapter_model.safetensors"));
        var loaded = PeftAdapterFile.Load(dir.Path);
        Assert.Equal([1f, -2f], loaded.Tensors["model.text_model.layers.0.self_attn.q_proj.lora_A.weight"].Data);
        Assert.Equal([3f], loaded.Tensors["model.text_model.layers.0.self_attn.q_proj.lora_magnitude_vector"].Data);
        Assert.Equal([4f], loaded.Tensors["model.connector.modality_projection.proj.weight"].Data);
    }

    [Fact]
    public void Keys_strip_the_prefix_and_adapter_name()
    {
        Assert.Equal("model.text_model.layers.0.mlp.down_proj.lora_B.weight",
            PeftKeys.FromFileKey("base_model.model.model.text_model.layers.0.mlp.down_proj.lora_B.weight"));
        Assert.Equal("lm_head.weight", PeftKeys.FromFileKey("base_model.model.lm_head.modules_to_save.default.weight"));
        Assert.Null(PeftKeys.FromFileKey("model.text_model.layers.0.mlp.down_proj.lora_B.weight"));
        Assert.Equal(("a.b.q_proj", "lora_magnitude_vector"), PeftKeys.SplitLora("a.b.q_proj.lora_magnitude_vector"));
    }

    [Fact]
    public void Bad_adapter_directories_are_clear_errors()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<PeftFormatException>(() => PeftAdapterFile.Load(dir.File("missing")));
        Assert.Contains("does not exist", e.Message);

        e = Assert.Throws<PeftFormatException>(() => PeftAdapterFile.Load(dir.Path));
        Assert.Contains("adapter_config.json", e.Message);

        File.WriteAllText(dir.File("adapter_config.json"), Config.ToJson());
        File.WriteAllBytes(dir.File("adapter_model.bin"), [1, 2, 3]);
        e = Assert.Throws<PeftFormatException>(() => PeftAdapterFile.Load(dir.Path));
        Assert.Contains("adapter_model.bin", e.Message);
        Assert.EndsWith("adapter_model.safetensors", e.FilePath);

        var w = new SafeTensorsWriter();
        w.Add("model.layers.0.q_proj.lora_A.weight", DType.F32, [1], BitConverter.GetBytes(1f));
        w.WriteFile(dir.File("adapter_model.safetensors"));
        e = Assert.Throws<PeftFormatException>(() => PeftAdapterFile.Load(dir.Path));
        Assert.Equal("model.layers.0.q_proj.lora_A.weight", e.Field);
        Assert.Contains("base_model.model.", e.Message);

        w = new SafeTensorsWriter();
        w.Add("base_model.model.x.lora_A.weight", DType.I32, [1], BitConverter.GetBytes(1));
        w.WriteFile(dir.File("adapter_model.safetensors"));
        e = Assert.Throws<PeftFormatException>(() => PeftAdapterFile.Load(dir.Path));
        Assert.Contains("not a float type", e.Message);
    }

    [Fact]
    public void Save_replaces_an_existing_adapter_and_leaves_no_temp_files()
    {
        using var dir = new TempDir();
        PeftAdapterFile.Save(dir.Path, Config, [T("m.q_proj.lora_A.weight", [2, 2])]);
        PeftAdapterFile.Save(dir.Path, Config with { R = 4 }, [T("m.q_proj.lora_A.weight", [4, 2])]);
        Assert.Equal(2, Directory.GetFiles(dir.Path).Length);
        var loaded = PeftAdapterFile.Load(dir.Path);
        Assert.Equal(4, loaded.Config.R);
        Assert.Equal([4L, 2L], loaded.Tensors["m.q_proj.lora_A.weight"].Shape);
        Assert.Throws<ArgumentException>(() => PeftAdapterFile.Save(dir.Path, Config, []));
    }

    [Fact]
    public void Processor_files_are_copied_from_a_model_directory()
    {
        using var dir = new TempDir();
        string model = Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "model", "tiny");
        var copied = PeftAdapterFile.CopyProcessorFiles(model, dir.Path);
        Assert.Contains("chat_template.json", copied);
        Assert.Contains("tokenizer.json", copied);
        Assert.Contains("preprocessor_config.json", copied);
        Assert.DoesNotContain("config.json", copied);
        Assert.All(copied, f => Assert.True(File.Exists(dir.File(f))));
    }
}
