using System.Text;

namespace VlmTune.Recipes.Schema;

/// <summary>
/// Writes a <see cref="Recipe"/> as canonical YAML: a fixed header, then every schema key in table order,
/// sections as two-space blocks, '\n' line ends. The dpo section is written only for kind dpo.
/// </summary>
internal static class RecipeWriter
{
    public const string Header = "# resolved by vlmtune: every key, defaults filled in, absolute paths";

    public static string Write(Recipe recipe)
    {
        var sb = new StringBuilder().Append(Header).Append('\n');
        string? section = null;
        foreach (var key in RecipeSchema.Keys)
        {
            if (key.Section == "dpo" && recipe.Dpo == null) continue;
            if (key.Section == "")
            {
                sb.Append(key.Name).Append(": ").Append(key.Format(recipe)).Append('\n');
                continue;
            }
            if (key.Section != section)
            {
                section = key.Section;
                sb.Append(section).Append(":\n");
            }
            sb.Append("  ").Append(key.Name).Append(": ").Append(key.Format(recipe)).Append('\n');
        }
        return sb.ToString();
    }
}
