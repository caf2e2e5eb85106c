namespace VlmTune.Recipes.Tests;

/// <summary>Resolved YAML and the hash.</summary>
public class RecipeTests
{
    [Fact]
    public void Resolved_yaml_has_every_key_defaults_and_absolute_paths()
    {
        string yaml = RecipeTestSupport.Parse(RecipeTestSupport.Minimal).ToYaml();
        Assert.StartsWith("# resolved by vlmtune", yaml);
        Assert.Contains("  path: \"/work/cwd/recipes/base\"\n", yaml);
        Assert.Contains("  train: \"/work/cwd/recipes/train.jsonl\"\n", yaml);
        Assert.Contains("  dir: \"/work/cwd/runs/x\"\n", yaml);
        Assert.Contains("quantization:\n  enabled: false\n", yaml);
        Assert.Contains("  targets: [\"q_proj\", \"k_proj\", \"v_proj\", \"o_proj\"]\n", yaml);
        Assert.Contains("  eps: 1E-08\n", yaml);
        Assert.Contains("  betas: [0.9, 0.999]\n", yaml);
        Assert.DoesNotContain("dpo:", yaml);     // kind sft
        foreach (var key in RecipeDocs.Keys.Where(k => !k.Path.StartsWith("dpo.", StringComparison.Ordinal)))
            Assert.Contains("\n" + (key.Path.Contains('.') ? "  " + key.Path[(key.Path.IndexOf('.') + 1)..] : key.Path) + ": ", yaml);
        Assert.DoesNotContain(DateTime.UtcNow.Year.ToString(System.Globalization.CultureInfo.InvariantCulture), yaml);
    }

    [Fact]
    public void Round_trip_keeps_odd_values()
    {
        var r = RecipeTestSupport.Parse(RecipeTestSupport.Minimal,
            "kind=dpo", "lora.targets=null", "lora.targets_regex=.*\\.(q|v)_proj", "train.lr=3.3e-7", "lora.alpha=0.1",
            "data.eval=\"dir with \\\"quotes\\\"/e.jsonl\"", "lora.towers=[vision, text]", "quantization.skip=[]",
            "dpo.loss=robust", "dpo.label_smoothing=0.25", "train.betas=[0.8, 0.95]");
        var again = RecipeLoader.Parse(r.ToYaml(), "x.yaml", [], "/");
        Assert.Equal(r, again);
        Assert.Equal(".*\\.(q|v)_proj", again.Lora.TargetsRegex);
        Assert.Null(again.Lora.Targets);
        Assert.Equal(3.3e-7, again.Train.Lr);
        Assert.EndsWith("dir with \"quotes\"/e.jsonl", again.Data.Eval);
    }

    [Fact]
    public void Hash_is_stable_and_changes_with_any_value()
    {
        const string yaml = """
            model: {path: /m}
            data: {train: /d/train.jsonl}
            output: {dir: /runs/a}
            """;
        var a = RecipeLoader.Parse(yaml, "a.yaml", [], "/");
        var b = RecipeLoader.Parse(yaml + "\nseed: 42\n", "b/b.yaml", [], "/tmp");
        Assert.Equal(a.Hash(), b.Hash());                       // same values, different file and spelling
        Assert.Matches("^[0-9a-f]{64}$", a.Hash());
        Assert.NotEqual(a.Hash(), RecipeLoader.Parse(yaml, "a.yaml", ["lora.r=9"], "/").Hash());
        Assert.NotEqual(a.Hash(), RecipeLoader.Parse(yaml, "a.yaml", ["train.lr=1.00001e-4"], "/").Hash());
        // Pinned: a change here means every cached reference log-prob is invalidated; update on purpose only.
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal("ad5f388b99591a203f1a282c8c6f045e10b6fba8622eca74559866fa967f30a3", a.Hash());   // + data.workers, prefetch, group_by_length, feature_cache(_mb), data.split/eval_split/config, logging.tensorboard, data.non_rgb_images keys
    }

    [Fact]
    public void Compute_dtype_parses_overrides_round_trips_and_refuses_other_names()
    {
        Assert.Equal(ComputeDType.Auto, RecipeTestSupport.Parse(RecipeTestSupport.Minimal).Train.ComputeDType);
        var r = RecipeTestSupport.Parse(RecipeTestSupport.Minimal + "\ntrain:\n  compute_dtype: bf16\n");
        Assert.Equal(ComputeDType.Bf16, r.Train.ComputeDType);
        Assert.Contains("\n  compute_dtype: bf16\n", r.ToYaml());
        Assert.Equal(r, RecipeLoader.Parse(r.ToYaml(), "x.yaml", [], "/"));
        var f = RecipeTestSupport.Parse(RecipeTestSupport.Minimal, "train.compute_dtype=f32");
        Assert.Equal(ComputeDType.F32, f.Train.ComputeDType);
        Assert.NotEqual(r.Hash(), f.Hash());
        string e = RecipeTestSupport.ErrorOf(RecipeTestSupport.Minimal, "train.compute_dtype=fp16");
        Assert.Contains("train.compute_dtype", e);
        Assert.Contains("expected one of auto, f32, bf16", e);
    }

    [Fact]
    public void Effective_batch_is_derived()
    {
        var r = RecipeTestSupport.Parse(RecipeTestSupport.Minimal, "train.batch_size=3", "train.grad_accum=5");
        Assert.Equal(15, r.Train.EffectiveBatch);
    }
}

public class DeviceKeyTests
{
    const string Yaml = """
        model: {path: /m}
        data: {train: /d/train.jsonl}
        output: {dir: /runs/a}
        """;

    [Theory]
    [InlineData("auto")]
    [InlineData("cpu")]
    [InlineData("cuda")]
    [InlineData("cuda:1")]
    public void Accepts_device_names(string name)
    {
        var r = RecipeLoader.Parse(Yaml + $"\ndevice: {name}\n", "a.yaml", [], "/");
        Assert.Equal(name, r.Device);
        Assert.True(DeviceSpec.TryParse(r.Device, out _));
    }

    [Fact]
    public void Default_is_auto_and_a_bad_name_names_the_key()
    {
        Assert.Equal("auto", RecipeLoader.Parse(Yaml, "a.yaml", [], "/").Device);
        var e = Assert.ThrowsAny<Exception>(() => RecipeLoader.Parse(Yaml + "\ndevice: tpu\n", "a.yaml", [], "/"));
        Assert.Contains("device", e.Message);
        Assert.Contains("a.yaml:4", e.Message);
    }
}
