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

    [Fact]
    public void Data_workers_prefetch_and_cache_limit_are_not_part_of_the_resume_hash_but_grouping_and_the_cache_are()
    {
        RunSettings Map(params string[] set) => RecipeMapping.ToRunSettings(RecipeLoader.Parse(Minimal, "r.yaml", set, "/"));
        var auto = Map();
        Assert.Equal(Recipes.DataSection.AutoWorkers(Environment.ProcessorCount), auto.Workers);
        Assert.Equal((2, false, true, 16L << 30), (auto.Prefetch, auto.GroupByLength, auto.FeatureCache, auto.FeatureCacheBytes));
        var other = Map("data.workers=6", "data.prefetch=5", "data.feature_cache_mb=10", "device=cpu");
        Assert.Equal((6, 5, 10L << 20), (other.Workers, other.Prefetch, other.FeatureCacheBytes));
        Assert.Equal(auto.ConfigHash, other.ConfigHash);
        Assert.Equal(0, Map("data.workers=0").Workers);
        Assert.NotEqual(auto.ConfigHash, Map("data.group_by_length=true").ConfigHash);
        Assert.NotEqual(auto.ConfigHash, Map("data.feature_cache=false").ConfigHash);
        Assert.Equal(1, Recipes.DataSection.AutoWorkers(2));
        Assert.Equal(4, Recipes.DataSection.AutoWorkers(16));
    }

    [Fact]
    public void Non_rgb_images_maps_to_the_processor_option_and_changes_the_run()
    {
        RunSettings Map(params string[] set) => RecipeMapping.ToRunSettings(RecipeLoader.Parse(Minimal, "r.yaml", set, "/"));
        var auto = Map();
        Assert.Equal(Processing.NonRgbImages.Transformers5, auto.NonRgbImages);
        Assert.Equal(auto.ConfigHash, Map("data.non_rgb_images=transformers-5").ConfigHash);
        var t4 = Map("data.non_rgb_images=transformers-4");
        Assert.Equal(Processing.NonRgbImages.Transformers4, t4.NonRgbImages);
        Assert.NotEqual(auto.ConfigHash, t4.ConfigHash);   // other pixels: a resumed run may not switch
        var e = Assert.Throws<RecipeException>(() => Map("data.non_rgb_images=composite"));
        Assert.Contains("data.non_rgb_images", e.Message);
        Assert.Contains("transformers-4", e.Message);
    }
}
