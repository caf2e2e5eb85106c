using static VlmTune.Recipes.Tests.RecipeTestSupport;

namespace VlmTune.Recipes.Tests.Schema;

/// <summary>Scalar typing: YAML 1.2 core schema, strictly (no quoted numbers, no yes/no).</summary>
public class ValueTypesTests
{
    static string With(string extra) => Minimal + "\n" + extra;

    [Theory]
    [InlineData("lora:\n  r: eight", "recipes/r.yaml:8:6: lora.r: expected an integer, got \"eight\"")]
    [InlineData("lora:\n  r: \"8\"", "recipes/r.yaml:8:6: lora.r: expected an integer, got \"8\" (quoted, so a string)")]
    [InlineData("lora:\n  r: 8.0", "recipes/r.yaml:8:6: lora.r: expected an integer, got \"8.0\"")]
    [InlineData("lora:\n  r: 99999999999", "recipes/r.yaml:8:6: lora.r: expected an integer, got \"99999999999\" (out of range)")]
    [InlineData("lora:\n  r: [8]", "recipes/r.yaml:8:6: lora.r: expected an integer, got a list")]
    [InlineData("lora:\n  r:", "recipes/r.yaml:8:5: lora.r: expected an integer, got null")]
    [InlineData("train:\n  lr: fast", "recipes/r.yaml:8:7: train.lr: expected a number, got \"fast\"")]
    [InlineData("train:\n  lr: .nan", "recipes/r.yaml:8:7: train.lr: expected a number, got \".nan\"")]
    [InlineData("train:\n  lr: '1e-4'", "recipes/r.yaml:8:7: train.lr: expected a number, got \"1e-4\" (quoted, so a string)")]
    [InlineData("logging:\n  every_steps: yes", "recipes/r.yaml:8:16: logging.every_steps: expected an integer, got \"yes\"")]
    [InlineData("train:\n  gradient_checkpointing: yes", "recipes/r.yaml:8:27: train.gradient_checkpointing: expected true or false, got \"yes\"")]
    [InlineData("kind: sfft", "recipes/r.yaml:7:7: kind: expected one of sft, dpo, got \"sfft\"")]
    [InlineData("lora:\n  init: xavier", "recipes/r.yaml:8:9: lora.init: expected one of kaiming, gaussian, got \"xavier\"")]
    [InlineData("lora:\n  towers: text", "recipes/r.yaml:8:11: lora.towers: expected a list such as [a, b], got \"text\"")]
    [InlineData("lora:\n  towers:\n    - text\n    - audio", "recipes/r.yaml:10:7: lora.towers: expected one of text, vision, connector, got \"audio\"")]
    [InlineData("train:\n  betas: [0.9]", "recipes/r.yaml:8:10: train.betas: expected two numbers such as [0.9, 0.999], got a list")]
    public void Wrong_types(string extra, string message) => Assert.Equal(message, ErrorOf(With(extra)));

    [Theory]
    [InlineData("model: {path: m}\noutput: {dir: o}\ndata:\n  train: t\n  overflow: truncate",
                "recipes/r.yaml:5:13: data.overflow: expected one of error, drop, shrink-images, got \"truncate\"")]
    [InlineData("model: {path: m}\noutput: {dir: o}\ndata:\n  train: t\n  shuffle: no",
                "recipes/r.yaml:5:12: data.shuffle: expected true or false, got \"no\"")]
    [InlineData("model: {path: m}\ndata: {train: t}\noutput:\n  dir: {a: 1}", "recipes/r.yaml:4:8: output.dir: expected a string, got a mapping")]
    [InlineData("model: {path: m}\ndata: {train: t}\noutput:\n  dir: ''", "recipes/r.yaml:4:8: output.dir: expected a non-empty string, got \"\"")]
    [InlineData("model: {path: 8}\ndata: {train: t, eval: [a]}\noutput: {dir: o}", "recipes/r.yaml:2:24: data.eval: expected a string, got a list")]
    public void Wrong_types_in_data_and_output(string yaml, string message) => Assert.Equal(message, ErrorOf(yaml));

    [Theory]
    [InlineData("1", 1.0)]
    [InlineData("1e-4", 1e-4)]
    [InlineData("1.0e-4", 1e-4)]
    [InlineData(".5", 0.5)]
    [InlineData("+2.5E+1", 25.0)]
    public void Numbers(string text, double value) => Assert.Equal(value, Parse(Minimal, $"train.lr={text}").Train.Lr);

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("FALSE", false)]
    public void Bools(string text, bool value) => Assert.Equal(value, Parse(Minimal, $"data.shuffle={text}").Data.Shuffle);

    [Fact]
    public void Quoted_enum_values_and_block_lists_are_fine()
    {
        var r = Parse(With("kind: 'dpo'\nlora:\n  targets:\n    - q_proj\n    - \"v_proj\""));
        Assert.Equal(RecipeKind.Dpo, r.Kind);
        Assert.Equal(LoraTargets.Of("q_proj", "v_proj"), r.Lora.Targets);
    }
}
