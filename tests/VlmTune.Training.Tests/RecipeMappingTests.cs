using VlmTune.Recipes;
using VlmTune.Tensors;

namespace VlmTune.Training.Tests;

public class RecipeMappingTests
{
    const string Minimal = """
        model: {path: /m}
        data: {train: /d/train.jsonl}
        output: {dir: /runs/a}
        """;

    [Theory]
    [InlineData(null, null)]
    [InlineData("auto", null)]
    [InlineData("f32", DType.F32)]
    [InlineData("bf16", DType.BF16)]
    public void Compute_dtype_maps_auto_to_null_and_names_to_dtypes(string? value, DType? expected)
    {
        var r = RecipeLoader.Parse(Minimal, "r.yaml", value == null ? [] : [$"train.compute_dtype={value}"], "/");
        Assert.Equal(expected, RecipeMapping.ToRunSettings(r).ComputeDType);
    }
}
