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
