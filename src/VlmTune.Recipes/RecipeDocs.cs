using System.Text;
using VlmTune.Recipes.Schema;

namespace VlmTune.Recipes;

/// <summary>
/// Every recipe key with type, default and meaning, generated from the same schema table the loader uses
/// (for <c>vlmtune recipe keys</c> and help text).
/// </summary>
public static class RecipeDocs
{
    /// <summary>All keys in file order.</summary>
    public static IReadOnlyList<RecipeKeyInfo> Keys { get; } = RecipeSchema.Keys
        .Select(k => new RecipeKeyInfo(k.Path, k.TypeDoc, k.Required ? "(required)" : k.Format(new Recipe()), k.Meaning))
        .ToList();

    /// <summary>A plain-text listing: one block per key (path, type, default on one line; meaning indented below).</summary>
    public static string Describe()
    {
        var sb = new StringBuilder();
        sb.Append("Recipe keys (YAML sections; override any with --set key=value, e.g. --set lora.r=16):\n");
        string? section = null;
        foreach (var k in Keys)
        {
            string s = k.Path.Contains('.') ? k.Path[..k.Path.IndexOf('.')] : "";
            if (s != section)
            {
                section = s;
                sb.Append('\n').Append(s == "" ? "(top level)" : s + ":").Append('\n');
            }
            sb.Append("  ").Append(k.Path).Append("  [").Append(k.Type).Append("]  default ").Append(k.Default).Append('\n');
            sb.Append("      ").Append(k.Meaning).Append('\n');
        }
        return sb.ToString();
    }
}
