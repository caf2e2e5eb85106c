using YamlDotNet.RepresentationModel;

namespace VlmTune.Recipes.Schema;

/// <summary>How one kind of recipe value is read from a YAML node and written back (canonical text).</summary>
internal abstract class ValueType<T>
{
    /// <summary>The type as the key listing shows it, e.g. "integer" or "sft | dpo".</summary>
    public abstract string Doc { get; }

    /// <summary>Reads <paramref name="node"/>; throws <see cref="RecipeException"/> through <paramref name="ctx"/>.</summary>
    public abstract T Read(YamlNode node, ReadContext ctx);

    /// <summary>The canonical YAML text of <paramref name="value"/> (what <see cref="Recipe.ToYaml"/> writes).</summary>
    public abstract string Write(T value);
}
