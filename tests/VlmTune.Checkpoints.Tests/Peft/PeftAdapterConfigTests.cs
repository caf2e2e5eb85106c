using VlmTune.Checkpoints.Peft;

namespace VlmTune.Checkpoints.Tests.Peft;

public class PeftAdapterConfigTests
{
    static string ExamplePath => Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "peft", "adapter_config.example.json");

    static PeftAdapterConfig Cookbook => new()
    {
        BaseModelNameOrPath = "HuggingFaceTB/SmolVLM-256M-Instruct",
        R = 8,
        LoraAlpha = 8,
        LoraDropout = 0.1,
        TargetModules = ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"],
        UseDora = true,
        InitLoraWeights = "gaussian",
    };

    [Fact]
    public void Written_config_is_byte_identical_to_the_pinned_peft_example()
    {
        // tests/fixtures/peft/adapter_config.example.json is written by tests/reference/peft/make_example_config.py.
        Assert.Equal(File.ReadAllText(ExamplePath), Cookbook.ToJson());
    }

    [Fact]
    public void Example_parses_back_to_the_same_config()
    {
        var c = PeftAdapterConfig.Load(ExamplePath);
        Assert.Equal(Cookbook.ToJson(), c.ToJson());
        Assert.Equal("0.17.0", c.PeftVersion);
        Assert.True(c.UseDora);
        Assert.Equal("gaussian", c.InitLoraWeights);
    }

    [Fact]
    public void Minimal_peft_config_takes_peft_defaults()
    {
        var c = PeftAdapterConfig.Parse("""{"peft_type": "LORA", "target_modules": "all-linear"}""");
        Assert.Equal(8, c.R);
        Assert.Equal(8, c.LoraAlpha);
        Assert.Equal(0, c.LoraDropout);
        Assert.Equal("all-linear", c.TargetModulesPattern);
        Assert.Null(c.TargetModules);
        Assert.Equal("true", c.InitLoraWeights);
        Assert.False(c.UseDora);
    }

    [Fact]
    public void Unknown_harmless_keys_are_ignored()
    {
        var c = PeftAdapterConfig.Parse("""{"peft_type": "LORA", "target_modules": ["q_proj"], "eva_config": null, "corda_config": null, "use_qalora": false, "qalora_group_size": 16, "something_new": [1, 2]}""");
        Assert.Equal(["q_proj"], c.TargetModules);
    }

    [Theory]
    [InlineData("""{"target_modules": ["q_proj"]}""", "peft_type", "missing")]
    [InlineData("""{"peft_type": "IA3", "target_modules": ["q_proj"]}""", "peft_type", "\"IA3\" is not supported")]
    [InlineData("""{"peft_type": "LORA"}""", "target_modules", "missing")]
    [InlineData("""{"peft_type": "LORA", "target_modules": []}""", "target_modules", "empty list")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "bias": "all"}""", "bias", "only \"none\"")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "fan_in_fan_out": true}""", "fan_in_fan_out", "not supported")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "lora_bias": true}""", "lora_bias", "not supported")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "rank_pattern": {"q_proj": 4}}""", "rank_pattern", "not supported")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "alpha_pattern": {"q_proj": 4}}""", "alpha_pattern", "not supported")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "layer_replication": [[0, 2]]}""", "layer_replication", "must be null")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "exclude_modules": ["vision_model"]}""", "exclude_modules", "not supported")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "r": 0}""", "r", "positive")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "r": "8"}""", "r", "expected an integer")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "lora_dropout": 1.5}""", "lora_dropout", "outside [0, 1)")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "use_dora": "yes"}""", "use_dora", "expected true or false")]
    [InlineData("""{"peft_type": "LORA", "target_modules": ["q_proj"], "layers_to_transform": [-1]}""", "layers_to_transform", "layer index")]
    public void Unsupported_or_malformed_fields_are_errors_naming_file_and_field(string json, string field, string detail)
    {
        var e = Assert.Throws<PeftFormatException>(() => PeftAdapterConfig.Parse(json, "dir/adapter_config.json"));
        Assert.Equal(field, e.Field);
        Assert.Equal("dir/adapter_config.json", e.FilePath);
        Assert.Contains(detail, e.Message);
        Assert.StartsWith("dir/adapter_config.json: '" + field + "'", e.Message);
    }

    [Fact]
    public void Not_json_and_missing_file_are_clear_errors()
    {
        var e = Assert.Throws<PeftFormatException>(() => PeftAdapterConfig.Parse("{peft", "x.json"));
        Assert.Contains("not valid JSON", e.Message);
        e = Assert.Throws<PeftFormatException>(() => PeftAdapterConfig.Load("/nonexistent/adapter_config.json"));
        Assert.Contains("file not found", e.Message);
    }

    [Fact]
    public void Regex_targets_and_layers_round_trip()
    {
        var c = Cookbook with { TargetModules = null, TargetModulesPattern = @"model\.text_model\.layers\.\d+\.self_attn\.q_proj", LayersToTransform = [0, 3], LoraAlpha = 16.5 };
        var back = PeftAdapterConfig.Parse(c.ToJson());
        Assert.Equal(c.TargetModulesPattern, back.TargetModulesPattern);
        Assert.Equal([0, 3], back.LayersToTransform);
        Assert.Equal(16.5, back.LoraAlpha);
        Assert.Contains("\"lora_alpha\": 16.5", c.ToJson());
        Assert.Contains("\"lora_alpha\": 8,", Cookbook.ToJson());
    }
}
