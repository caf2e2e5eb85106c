namespace VlmTune.Cli.Tests;

[Collection("console")]
public class TrainCommandTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-train-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }

    static string Root => CliHarness.RepoRoot();

    string[] Overrides(string data, int steps) =>
    [
        "--set", $"model.path={Path.Combine(Root, "tests/fixtures/model/tiny")}",
        "--set", $"data.train={Path.Combine(Root, "tests/fixtures/data", data)}",
        "--set", $"output.dir={_tmp}",
        "--set", $"train.max_steps={steps}",
        "--set", "train.batch_size=2",
    ];

    [Fact]
    public void Sft_from_a_recipe_writes_the_run_directory()
    {
        var (code, output, err) = CliHarness.Run(["sft", Path.Combine(Root, "recipes/tiny/sft.yaml"), .. Overrides("sft.jsonl", 3)]);
        Assert.True(code == 0, err + output);
        foreach (var f in new[] { "recipe.resolved.yaml", "metrics.jsonl", "train.log", "adapter/adapter_config.json", "adapter/adapter_model.safetensors" })
            Assert.True(File.Exists(Path.Combine(_tmp, f)), f);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(_tmp, "metrics.jsonl")).Length);
        Assert.Contains("max_steps: 3", File.ReadAllText(Path.Combine(_tmp, "recipe.resolved.yaml")));
    }

    [Fact]
    public void The_adapter_records_the_non_rgb_rule_and_the_adapter_verbs_default_to_it()
    {
        var (code, output, err) = CliHarness.Run(["sft", Path.Combine(Root, "recipes/tiny/sft.yaml"), .. Overrides("sft.jsonl", 1),
            "--set", "data.non_rgb_images=transformers-4"]);
        Assert.True(code == 0, err + output);
        string adapter = Path.Combine(_tmp, "adapter");
        Assert.Contains("\"non_rgb_images\": \"transformers-4\"", File.ReadAllText(Path.Combine(adapter, "vlmtune_base.json")));
        // generate / eval / chat / forward take their processor from AdaptedModelOptions.Processor → ImageOptions.Resolve.
        Assert.Equal(VlmTune.Processing.NonRgbImages.Transformers4, ImageOptions.Resolve(null, adapter));
        Assert.Equal(VlmTune.Processing.NonRgbImages.Transformers5, ImageOptions.Resolve("transformers-5", adapter));   // the flag wins
        Assert.Equal(VlmTune.Processing.NonRgbImages.Transformers5, ImageOptions.Resolve(null, null));
        File.Delete(Path.Combine(adapter, "vlmtune_base.json"));                                                 // a PEFT-made adapter
        Assert.Equal(VlmTune.Processing.NonRgbImages.Transformers5, ImageOptions.Resolve(null, adapter));
        File.WriteAllText(Path.Combine(adapter, "vlmtune_base.json"),
            "{\"format\": \"vlmtune-base-preparation\", \"version\": 1, \"compute_dtype\": \"float32\", \"base_weights_sha256\": \"00\", \"non_rgb_images\": \"rgb\"}");
        var e = Assert.Throws<UserErrorException>(() => ImageOptions.Resolve(null, adapter));
        Assert.Contains("vlmtune_base.json: non_rgb_images \"rgb\" is not transformers-5 or transformers-4", e.Message);
    }

    [Fact]
    public void Dpo_from_a_recipe_runs()
    {
        var (code, output, err) = CliHarness.Run(["dpo", Path.Combine(Root, "recipes/tiny/dpo.yaml"), .. Overrides("dpo.jsonl", 2)]);
        Assert.True(code == 0, err + output);
        Assert.True(File.Exists(Path.Combine(_tmp, "adapter/adapter_model.safetensors")));
        Assert.Single(Directory.GetFiles(_tmp, "reference-logps-*.safetensors"));
    }

    [Fact]
    public void Bad_recipes_fail_before_any_compute_with_the_key_named()
    {
        string recipe = Path.Combine(Root, "recipes/tiny/sft.yaml");
        var (code, _, err) = CliHarness.Run("sft", recipe, "--set", "lora.rr=4");
        Assert.Equal(1, code);
        Assert.Contains("lora.rr", err);
        (code, _, err) = CliHarness.Run("sft", recipe, "--set", "lora.r=eight");
        Assert.Equal(1, code);
        Assert.Contains("lora.r", err);
        (code, _, err) = CliHarness.Run(["sft", recipe, .. Overrides("sft.jsonl", 1), "--set", $"model.path={_tmp}/missing"]);
        Assert.Equal(1, code);
        Assert.Contains("model.path", err);
        (code, _, err) = CliHarness.Run("dpo", recipe);
        Assert.Equal(1, code);
        Assert.Contains("kind is sft", err);
        Assert.DoesNotContain("   at ", err);
        Assert.False(Directory.Exists(Path.Combine(_tmp, "checkpoints")));
    }

    [Fact]
    public void Recipe_keys_lists_the_schema()
    {
        var (code, output, _) = CliHarness.Run("recipe", "keys");
        Assert.Equal(0, code);
        Assert.Contains("lora.r", output);
        Assert.Contains("train.grad_accum", output);
    }
}
