namespace VlmTune.Recipes.Tests;

/// <summary>Shared helpers: the repository root and a one-call parse of inline YAML.</summary>
internal static class RecipeTestSupport
{
    /// <summary>A fixed fake working directory, so resolved paths are predictable.</summary>
    public const string Cwd = "/work/cwd";

    /// <summary>The folder holding VlmTune.sln, found by walking up from the test binary.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "VlmTune.sln"))) return dir.FullName;
        throw new InvalidOperationException("VlmTune.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Parses <paramref name="yaml"/> as if it were /work/cwd/recipes/r.yaml, named "r.yaml" in messages.</summary>
    public static Recipe Parse(string yaml, params string[] overrides) =>
        RecipeLoader.Parse(yaml, "recipes/r.yaml", overrides, Cwd);

    /// <summary>The message of the <see cref="RecipeException"/> that parsing throws.</summary>
    public static string ErrorOf(string yaml, params string[] overrides) =>
        Assert.Throws<RecipeException>(() => Parse(yaml, overrides)).Message;

    /// <summary>The three required keys and nothing else.</summary>
    public const string Minimal = """
        model:
          path: base
        data:
          train: train.jsonl
        output:
          dir: runs/x
        """;
}
