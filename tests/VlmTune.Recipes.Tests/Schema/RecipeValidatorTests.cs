using static VlmTune.Recipes.Tests.RecipeTestSupport;

namespace VlmTune.Recipes.Tests.Schema;

/// <summary>Required keys, ranges and cross-key rules, each with its location.</summary>
public class RecipeValidatorTests
{
    static string With(string extra) => Minimal + "\n" + extra;

    [Fact]
    public void Missing_required_key_points_at_its_section() =>
        Assert.Equal("recipes/r.yaml:1:1: model.path: required key is missing (set it in the recipe or with --set model.path=...)",
            ErrorOf("model: {}\ndata: {train: t.jsonl}\noutput: {dir: o}"));

    [Fact]
    public void Missing_required_section_points_at_the_top() =>
        Assert.Equal("recipes/r.yaml:1:1: output.dir: required key is missing (set it in the recipe or with --set output.dir=...)",
            ErrorOf("kind: sft\nmodel: {path: m}\ndata: {train: t.jsonl}"));

    [Fact]
    public void Missing_required_key_can_come_from_an_override() =>
        Assert.Equal("/work/cwd/o", Parse("model: {path: m}\ndata: {train: t.jsonl}", "output.dir=o").Output.Dir);

    [Fact]
    public void Missing_data_train_inside_a_present_section()
    {
        string yaml = "model:\n  path: m\noutput:\n  dir: o\ndata:\n  shuffle: false\n";
        Assert.Equal("recipes/r.yaml:5:1: data.train: required key is missing (set it in the recipe or with --set data.train=...)", ErrorOf(yaml));
    }

    [Theory]
    [InlineData("lora:\n  r: 0", "recipes/r.yaml:8:6: lora.r: must be >= 1, got 0")]
    [InlineData("lora:\n  dropout: 1.0", "recipes/r.yaml:8:12: lora.dropout: must be in [0, 1), got 1.0")]
    [InlineData("lora:\n  dropout: -0.1", "recipes/r.yaml:8:12: lora.dropout: must be in [0, 1), got -0.1")]
    [InlineData("train:\n  lr: 0", "recipes/r.yaml:8:7: train.lr: must be > 0, got 0.0")]
    [InlineData("train:\n  grad_accum: 0", "recipes/r.yaml:8:15: train.grad_accum: must be >= 1, got 0")]
    [InlineData("quantization:\n  blocksize: 48", "recipes/r.yaml:8:14: quantization.blocksize: must be a power of two in 32..4096, got 48")]
    [InlineData("quantization:\n  blocksize: 8192", "recipes/r.yaml:8:14: quantization.blocksize: must be a power of two in 32..4096, got 8192")]
    [InlineData("lora:\n  towers: []", "recipes/r.yaml:8:11: lora.towers: must be a non-empty list without repeats, got []")]
    [InlineData("lora:\n  targets: [q_proj, q_proj]", "recipes/r.yaml:8:12: lora.targets: must be a non-empty list without repeats, \"all-linear\" or null, got [\"q_proj\", \"q_proj\"]")]
    [InlineData("train:\n  betas: [0.9, 1.5]", "recipes/r.yaml:8:10: train.betas: must be two numbers in [0, 1), got [0.9, 1.5]")]
    public void Range_errors(string extra, string message) => Assert.Equal(message, ErrorOf(With(extra)));

    [Fact]
    public void Eval_fraction_range() =>
        Assert.Equal("recipes/r.yaml:3:39: data.eval_fraction: must be in [0, 1), got 1.0",
            ErrorOf("model: {path: m}\noutput: {dir: o}\ndata: {train: t.jsonl, eval_fraction: 1}"));

    [Fact]
    public void Blocksize_powers_of_two_are_accepted()
    {
        foreach (int b in new[] { 32, 64, 128, 256, 4096 })
            Assert.Equal(b, Parse(Minimal, $"quantization.blocksize={b}").Quantization.Blocksize);
    }

    [Fact]
    public void Warmup_steps_and_ratio_are_exclusive() =>
        Assert.Equal("recipes/r.yaml:10:17: train.warmup_ratio: warmup_steps (3) and warmup_ratio (0.1) are both set; use one",
            ErrorOf(With("train:\n  lr: 1e-4\n  warmup_steps: 3\n  warmup_ratio: 0.1")));

    [Fact]
    public void Dpo_section_with_kind_sft_is_an_error() =>
        Assert.Equal("recipes/r.yaml:9:9: dpo.beta: the dpo section belongs to kind: dpo, but this recipe is kind: sft (remove the section or set kind: dpo)",
            ErrorOf(With("kind: sft\ndpo:\n  beta: 0.2")));

    [Fact]
    public void Empty_dpo_section_with_kind_sft_is_an_error() =>
        Assert.Equal("recipes/r.yaml:7:1: dpo: the dpo section belongs to kind: dpo, but this recipe is kind: sft (remove the section or set kind: dpo)",
            ErrorOf(With("dpo:")));

    [Fact]
    public void Dpo_override_with_kind_sft_is_an_error() =>
        Assert.Equal("--set dpo.loss: the dpo section belongs to kind: dpo, but this recipe is kind: sft (remove the section or set kind: dpo)",
            ErrorOf(Minimal, "dpo.loss=ipo"));

    [Fact]
    public void Kind_dpo_gets_dpo_defaults_and_kind_sft_none()
    {
        Assert.Equal(new DpoSection(), Parse(With("kind: dpo")).Dpo);
        Assert.Null(Parse(Minimal).Dpo);
        Assert.Equal(DpoLossType.Ipo, Parse(Minimal, "kind=dpo", "dpo.loss=ipo").Dpo!.Loss);
    }

    [Fact]
    public void Label_smoothing_only_for_sigmoid_and_robust()
    {
        Assert.Equal("--set dpo.label_smoothing: label_smoothing applies to the sigmoid (cDPO) and robust losses only, not hinge; set it to 0",
            ErrorOf(Minimal, "kind=dpo", "dpo.loss=hinge", "dpo.label_smoothing=0.1"));
        Assert.Equal(0.1, Parse(Minimal, "kind=dpo", "dpo.label_smoothing=0.1").Dpo!.LabelSmoothing);
    }

    [Fact]
    public void Targets_regex_replaces_the_default_list_but_not_an_explicit_one()
    {
        var r = Parse(With("lora:\n  targets_regex: '.*\\.(q|v)_proj'"));
        Assert.Null(r.Lora.Targets);
        Assert.Equal(@".*\.(q|v)_proj", r.Lora.TargetsRegex);
        Assert.Equal("recipes/r.yaml:9:18: lora.targets_regex: lora.targets and lora.targets_regex are both set; use one (or set targets: null)",
            ErrorOf(With("lora:\n  targets: [q_proj]\n  targets_regex: 'x'")));
    }

    [Fact]
    public void Bad_regex_and_no_targets()
    {
        Assert.StartsWith("--set lora.targets_regex: not a valid regular expression: ", ErrorOf(Minimal, "lora.targets_regex=(q"));
        Assert.Equal("--set lora.targets: no LoRA targets: set lora.targets (a list of names or all-linear) or lora.targets_regex",
            ErrorOf(Minimal, "lora.targets=null"));
    }

    [Fact]
    public void Eval_sources_are_exclusive_and_scheduled_eval_needs_data()
    {
        Assert.Equal("--set data.eval: an eval file and a split of train (eval_fraction / eval_count) are both set; use one",
            ErrorOf(Minimal, "data.eval=e.jsonl", "data.eval_count=5"));
        Assert.Equal("--set data.eval_count: eval_fraction and eval_count are both set; use one",
            ErrorOf(Minimal, "data.eval_fraction=0.1", "data.eval_count=5"));
        Assert.Equal("recipes/r.yaml:8:16: eval.every_steps: evaluation is scheduled but there is no eval data (set data.eval, data.eval_fraction or data.eval_count)",
            ErrorOf(With("eval:\n  every_steps: 10")));
        Assert.Equal(10, Parse(With("eval:\n  every_steps: 10"), "data.eval_fraction=0.05").Eval.EverySteps);
    }

    [Fact]
    public void Quantization_section_turns_qlora_on_unless_disabled()
    {
        Assert.False(Parse(Minimal).Quantization.Enabled);
        Assert.True(Parse(With("quantization:\n  type: fp4")).Quantization.Enabled);
        Assert.True(Parse(Minimal, "quantization.blocksize=128").Quantization.Enabled);
        Assert.False(Parse(With("quantization:\n  enabled: false")).Quantization.Enabled);
    }
}
