using YamlDotNet.RepresentationModel;

namespace VlmTune.Recipes.Schema;

/// <summary>
/// Where a value being read came from, for error messages and relative paths: a node of the recipe file
/// (<see cref="File"/> set) or a <c>--set</c> override (<see cref="File"/> null).
/// </summary>
internal sealed record ReadContext(string Key, string? File, string RecipeFolder, string WorkingDirectory)
{
    public bool IsOverride => File == null;

    /// <summary>An error located at <paramref name="node"/> (file) or naming the override.</summary>
    public RecipeException Fail(YamlNode node, string reason) =>
        File == null
            ? RecipeException.InOverride(Key, reason)
            : RecipeException.InFile(File, (int)node.Start.Line, (int)node.Start.Column, Key, reason);
}
