using VlmTune.Recipes.Schema;

namespace VlmTune.Recipes;

/// <summary>
/// Loads a recipe: strict YAML (unknown keys, wrong types, bad values and missing required keys are
/// <see cref="RecipeException"/>s naming file:line:column and key), then <c>--set key=value</c> overrides
/// (values are YAML: <c>16</c>, <c>1e-4</c>, <c>[q_proj,v_proj]</c>, <c>null</c>), then cross-key checks.
/// Relative model/data paths resolve against the recipe file's folder, relative <c>output.dir</c> and relative
/// paths given with <c>--set</c> against the working directory. Nothing is read but the recipe itself: whether the
/// model and data exist is the trainer's check.
/// </summary>
public static class RecipeLoader
{
    /// <summary>Loads <paramref name="path"/> with <paramref name="overrides"/> ("a.b=value") relative to the current directory.</summary>
    public static Recipe Load(string path, IReadOnlyList<string> overrides) =>
        Load(path, overrides, Environment.CurrentDirectory);

    /// <summary>Loads <paramref name="path"/> as if the current directory were <paramref name="workingDirectory"/>.</summary>
    public static Recipe Load(string path, IReadOnlyList<string> overrides, string workingDirectory)
    {
        string text;
        try
        {
            text = File.ReadAllText(Path.GetFullPath(path, workingDirectory));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new RecipeException($"{path}: recipe file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new RecipeException($"{path}: cannot read the recipe ({e.Message})");
        }
        return Parse(text, path, overrides, workingDirectory);
    }

    /// <summary>
    /// Parses recipe text. <paramref name="file"/> names it in messages and locates relative model/data paths
    /// (its folder, resolved against <paramref name="workingDirectory"/>); the file itself is not read.
    /// </summary>
    public static Recipe Parse(string yaml, string file, IReadOnlyList<string> overrides, string workingDirectory)
    {
        var source = RecipeSource.Collect(yaml, file, overrides, workingDirectory);
        var recipe = new Recipe();
        if (source.HasSection("quantization"))
            recipe = recipe with { Quantization = recipe.Quantization with { Enabled = true } };
        foreach (var (key, node, ctx) in source.SetKeys)
            recipe = key.Apply(recipe, node, ctx);
        return RecipeValidator.Validate(recipe, source);
    }
}
