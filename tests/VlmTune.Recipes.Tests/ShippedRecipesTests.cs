namespace VlmTune.Recipes.Tests;

/// <summary>Every file under recipes/ loads, validates, round-trips and carries its header.</summary>
public class ShippedRecipesTests
{
    static List<string> FileNames() =>
        Directory.GetFiles(Path.Combine(RecipeTestSupport.RepoRoot(), "recipes"), "*.yaml", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RecipeTestSupport.RepoRoot(), f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    public static TheoryData<string> Files() => new(FileNames());

    static Recipe Load(string relative, params string[] overrides) =>
        RecipeLoader.Load(relative, overrides, RecipeTestSupport.RepoRoot());

    [Fact]
    public void The_expected_recipes_are_shipped()
    {
        var names = FileNames();
        string[] expected =
        [
            "recipes/smolvlm-2.2b/qlora-dpo.yaml", "recipes/smolvlm-2.2b/qlora-sft.yaml",
            "recipes/smolvlm-256m/lora-sft.yaml", "recipes/smolvlm-256m/qlora-dpo.yaml", "recipes/smolvlm-256m/qlora-sft.yaml",
            "recipes/smolvlm-500m/qlora-dpo.yaml", "recipes/smolvlm-500m/qlora-sft.yaml",
            "recipes/tiny/dpo.yaml", "recipes/tiny/sft.yaml",
        ];
        Assert.Equal(expected, names);
    }

    [Theory, MemberData(nameof(Files))]
    public void Loads_and_its_kind_matches_its_name(string file)
    {
        var recipe = Load(file);
        var expected = Path.GetFileNameWithoutExtension(file).EndsWith("dpo", StringComparison.Ordinal) ? RecipeKind.Dpo : RecipeKind.Sft;
        Assert.Equal(expected, recipe.Kind);
        Assert.Equal(expected == RecipeKind.Dpo, recipe.Dpo != null);
        Assert.Equal(Path.GetFileName(file).StartsWith("qlora", StringComparison.Ordinal) || file.Contains("tiny"), recipe.Quantization.Enabled);
        string folder = Path.GetDirectoryName(Path.GetFullPath(file, RecipeTestSupport.RepoRoot()))!;
        Assert.StartsWith(folder, recipe.Model.Path);     // placeholders resolve against the recipe's folder
        Assert.StartsWith(folder, recipe.Data.Train);
        Assert.True(Path.IsPathFullyQualified(recipe.Output.Dir));
    }

    [Theory, MemberData(nameof(Files))]
    public void Round_trips_through_its_resolved_yaml(string file)
    {
        var recipe = Load(file);
        var again = RecipeLoader.Parse(recipe.ToYaml(), "resolved.yaml", [], "/elsewhere");
        Assert.Equal(recipe, again);
        Assert.Equal(recipe.ToYaml(), again.ToYaml());
    }

    [Theory, MemberData(nameof(Files))]
    public void Header_names_purpose_command_and_cost(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(RecipeTestSupport.RepoRoot(), file));
        var header = lines.TakeWhile(l => l.StartsWith('#')).ToList();
        Assert.True(header.Count >= 4, $"{file}: header comment too short");
        Assert.Contains(header, l => l.Contains("Purpose", StringComparison.Ordinal));
        string verb = file.Contains("dpo") ? "vlmtune dpo " : "vlmtune sft ";
        Assert.Contains(header, l => l.Contains(verb + file.Replace('\\', '/'), StringComparison.Ordinal));
        Assert.Contains(header, l => l.Contains("--set model.path=", StringComparison.Ordinal));
        Assert.Contains(header, l => l.Contains("Expected time/memory", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("recipes/tiny/sft.yaml")]
    [InlineData("recipes/tiny/dpo.yaml")]
    public void Tiny_recipes_use_the_demo_values(string file)
    {
        // The demo's invariants (the exact values are tuned with `vlmtune demo`, see the recipe comments).
        var r = Load(file);
        Assert.Equal(1, r.Seed);
        Assert.Equal(2.0, r.Lora.Alpha / r.Lora.R);
        Assert.Equal(1, r.Train.GradAccum);
        Assert.InRange(r.Train.MaxSteps, 10, 2000);              // the demo's time budget: ~0.05 s a step on 2 cores
        Assert.False(r.Train.GradientCheckpointing);
        Assert.True(r.Quantization.Enabled);
        Assert.Equal(QuantType.Nf4, r.Quantization.Type);
        Assert.Contains(Tower.Text, r.Lora.Towers);
        if (r.Kind == RecipeKind.Sft) Assert.Equal(ValueList<string>.Of("lm_head"), r.Lora.ModulesToSave);
        // Periodic checkpoints (a kill must not lose the whole run), and a previous one to fall back on.
        Assert.InRange(r.Checkpoint.EverySteps, 1, r.Train.MaxSteps - 1);
        Assert.True(r.Checkpoint.KeepLast >= 2);
    }

    [Fact]
    public void Demo_overrides_replace_the_placeholders_with_absolute_paths()
    {
        var r = Load("recipes/tiny/sft.yaml", "model.path=/tmp/demo/base", "data.train=/tmp/demo/sft-train.jsonl", "output.dir=/tmp/demo/sft");
        Assert.Equal(Path.GetFullPath("/tmp/demo/base"), r.Model.Path);
        Assert.Equal(Path.GetFullPath("/tmp/demo/sft-train.jsonl"), r.Data.Train);
        Assert.Equal(Path.GetFullPath("/tmp/demo/sft"), r.Output.Dir);
    }

    [Theory]
    [InlineData("recipes/smolvlm-2.2b/qlora-sft.yaml")]
    [InlineData("recipes/smolvlm-256m/qlora-sft.yaml")]
    [InlineData("recipes/smolvlm-500m/qlora-sft.yaml")]
    public void Cookbook_sft_values(string file)
    {
        var r = Load(file);
        Assert.Equal(LoraTargets.Of("down_proj", "o_proj", "k_proj", "q_proj", "gate_proj", "up_proj", "v_proj"), r.Lora.Targets);
        Assert.Equal((8, 8.0, 0.1, true, LoraInit.Gaussian), (r.Lora.R, r.Lora.Alpha, r.Lora.Dropout, r.Lora.UseDora, r.Lora.Init));
        Assert.Equal((1, 4, 4, 50, 1e-4, 0.01), (r.Train.Epochs, r.Train.BatchSize, r.Train.GradAccum, r.Train.WarmupSteps, r.Train.Lr, r.Train.WeightDecay));
        Assert.True(r.Quantization.DoubleQuant);
    }

    [Theory]
    [InlineData("recipes/smolvlm-2.2b/qlora-dpo.yaml")]
    [InlineData("recipes/smolvlm-256m/qlora-dpo.yaml")]
    [InlineData("recipes/smolvlm-500m/qlora-dpo.yaml")]
    public void Cookbook_dpo_values(string file)
    {
        var r = Load(file);
        Assert.Equal((5, 1, 32), (r.Train.Epochs, r.Train.BatchSize, r.Train.GradAccum));
        Assert.Equal(0.1, r.Dpo!.Beta);
        Assert.True(r.Train.GradientCheckpointing);
    }

    [Fact]
    public void A_shipped_recipe_with_a_missing_file_names_it()
    {
        var e = Assert.Throws<RecipeException>(() => Load("recipes/nope.yaml"));
        Assert.Equal("recipes/nope.yaml: recipe file not found", e.Message);
    }
}
