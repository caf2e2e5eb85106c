using VlmTune.Checkpoints.Peft;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests.Adapters;

/// <summary>Installing adapters on the tiny model, switching them off, and the PEFT save → load round trip.</summary>
public class AdapterSetTests
{
    static LoraSettings Settings(bool dora = false, params string[] modulesToSave) => new()
    {
        Targets = TargetModules.FromNames("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
        ModulesToSave = modulesToSave,
        Lora = new LoraOptions { Rank = 4, Alpha = 8, UseDora = dora, Dropout = 0.1f, Init = LoraInit.Gaussian },
    };

    [Fact]
    public void Fresh_adapters_leave_the_logits_unchanged_and_disabling_restores_them_exactly()
    {
        var model = AdapterTestSupport.Tiny();
        var inputs = AdapterTestSupport.Prompt(model);
        var baseLogits = AdapterTestSupport.Logits(model, inputs);
        var set = AdapterSet.Apply(model, Settings(dora: true, "model.connector.modality_projection.proj"), seed: 1);
        Assert.Equal(baseLogits, AdapterTestSupport.Logits(model, inputs));
        AdapterTestSupport.Perturb(set, 4);
        set.SavedModules[0].Weight.Backend.Fill(set.SavedModules[0].Weight, 0.01f);
        Assert.NotEqual(baseLogits, AdapterTestSupport.Logits(model, inputs));
        set.Enabled = false;
        Assert.Equal(baseLogits, AdapterTestSupport.Logits(model, inputs));
        set.Enabled = true;
        Assert.NotEqual(baseLogits, AdapterTestSupport.Logits(model, inputs));
        set.Remove();
        Assert.Equal(baseLogits, AdapterTestSupport.Logits(model, inputs));
        Assert.All(model.NamedLinears(), l => Assert.Null(l.Layer.Adapter));
    }

    [Fact]
    public void Trainable_parameters_are_listed_in_model_order_with_peft_keys_and_counted_exactly()
    {
        var model = AdapterTestSupport.Tiny();
        var set = AdapterSet.Apply(model, Settings(dora: true, "proj"), seed: 1);
        var keys = set.TrainableParameters.Select(p => p.Key).ToList();
        Assert.Equal("model.text_model.layers.0.self_attn.q_proj.lora_A.weight", keys[0]);
        Assert.Equal("model.text_model.layers.0.self_attn.q_proj.lora_B.weight", keys[1]);
        Assert.Equal("model.text_model.layers.0.self_attn.q_proj.lora_magnitude_vector", keys[2]);
        Assert.Equal("model.connector.modality_projection.proj.weight", keys[^1]);
        Assert.Equal(set.Resolution.TrainableParameters, set.TrainableParameters.Sum(p => p.Tensor.Numel));
        Assert.All(set.TrainableParameters, p => Assert.True(p.Tensor.RequiresGrad && p.Tensor.DType == Tensors.DType.F32));
        Assert.DoesNotContain(model.Parameters.All, p => p.Tensor.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => AdapterSet.Apply(model, Settings(), seed: 2));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Save_then_load_into_a_fresh_model_gives_identical_logits(bool dora)
    {
        var model = AdapterTestSupport.Tiny();
        var inputs = AdapterTestSupport.Prompt(model);
        var set = AdapterSet.Apply(model, Settings(dora, "model.connector.modality_projection.proj") with { Towers = LoraSettings.AllTowers }, seed: 9);
        AdapterTestSupport.Perturb(set, 6);
        var trained = AdapterTestSupport.Logits(model, inputs);
        using var dir = AdapterTestSupport.Scratch();
        set.Save(dir.Path, "HuggingFaceTB/SmolVLM-256M-Instruct");

        var fresh = AdapterTestSupport.Tiny();
        var loaded = AdapterSet.Load(fresh, dir.Path);
        Assert.Equal(set.TrainableParameters.Select(p => p.Key), loaded.TrainableParameters.Select(p => p.Key));
        Assert.Equal(trained, AdapterTestSupport.Logits(fresh, inputs));
        Assert.Equal(set.Resolution.ModulePaths, loaded.Resolution.ModulePaths);
    }

    [Fact]
    public void Text_only_adapter_file_names_its_modules_by_regex_so_peft_does_not_adapt_the_vision_tower()
    {
        var model = AdapterTestSupport.Tiny();
        var set = AdapterSet.Apply(model, Settings(), seed: 9);
        var config = set.ToPeftConfig("base");
        Assert.Null(config.TargetModules);
        Assert.Equal(@"model\.text_model\.layers\.\d+\.(?:mlp\.down_proj|mlp\.gate_proj|mlp\.up_proj|self_attn\.k_proj|self_attn\.o_proj|self_attn\.q_proj|self_attn\.v_proj)",
            config.TargetModulesPattern);
        using var dir = AdapterTestSupport.Scratch();
        set.Save(dir.Path, "base");
        var loaded = AdapterSet.Load(AdapterTestSupport.Tiny(), dir.Path);
        Assert.Equal(set.Resolution.ModulePaths, loaded.Resolution.ModulePaths);
        Assert.DoesNotContain(loaded.Resolution.Modules, m => m.Tower == Tower.Vision);
    }

    [Fact]
    public void All_towers_adapter_file_keeps_the_plain_peft_name_list()
    {
        var model = AdapterTestSupport.Tiny();
        var set = AdapterSet.Apply(model, Settings() with { Towers = LoraSettings.AllTowers }, seed: 9);
        var config = set.ToPeftConfig("base");
        Assert.Equal(["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"], config.TargetModules);
        Assert.Null(config.TargetModulesPattern);
    }

    [Fact]
    public void Save_copies_processor_files_from_the_model_directory()
    {
        string modelDir = Path.Combine(AdapterTestSupport.RepoRoot, "tests", "fixtures", "model", "tiny");
        var model = SmolVlmModel.Load(modelDir, CpuBackend.Device, out _);
        var set = AdapterSet.Apply(model, Settings(), seed: 9);
        using var dir = AdapterTestSupport.Scratch();
        set.Save(dir.Path, null, modelDir);
        foreach (var f in new[] { "adapter_config.json", "adapter_model.safetensors", "chat_template.json", "tokenizer.json", "processor_config.json", "preprocessor_config.json" })
            Assert.True(File.Exists(Path.Combine(dir.Path, f)), f);
        Assert.Contains("\"base_model_name_or_path\": \"" + modelDir.Replace("\\", "\\\\") + "\"", File.ReadAllText(Path.Combine(dir.Path, "adapter_config.json")));
    }

    [Fact]
    public void Loading_rejects_unknown_missing_and_misshaped_tensors_naming_the_key()
    {
        var model = AdapterTestSupport.Tiny();
        var set = AdapterSet.Apply(model, Settings(), seed: 9);
        var config = set.ToPeftConfig("base");
        var tensors = set.ToPeftTensors();
        using var dir = AdapterTestSupport.Scratch();

        PeftAdapterFile.Save(dir.Path, config, tensors.Skip(1));
        var e = Assert.Throws<PeftFormatException>(() => AdapterSet.Load(AdapterTestSupport.Tiny(), dir.Path));
        Assert.Equal("base_model.model." + tensors[0].Key, e.Field);
        Assert.Contains("missing", e.Message);

        PeftAdapterFile.Save(dir.Path, config, [.. tensors, new PeftTensor("model.text_model.layers.9.self_attn.q_proj.lora_A.weight", [4, 64], new float[256])]);
        e = Assert.Throws<PeftFormatException>(() => AdapterSet.Load(AdapterTestSupport.Tiny(), dir.Path));
        Assert.Contains("layers.9.self_attn.q_proj.lora_A.weight", e.Message);

        var bad = tensors.Select((t, i) => i == 0 ? t with { Shape = [t.Shape[1], t.Shape[0]] } : t);
        PeftAdapterFile.Save(dir.Path, config, bad);
        var target = AdapterTestSupport.Tiny();
        e = Assert.Throws<PeftFormatException>(() => AdapterSet.Load(target, dir.Path));
        Assert.Contains("expected [4, 64]", e.Message);
        Assert.All(target.NamedLinears(), l => Assert.Null(l.Layer.Adapter));   // a failed load leaves the model untouched
    }
}
