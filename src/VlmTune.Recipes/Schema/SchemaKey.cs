using YamlDotNet.RepresentationModel;

namespace VlmTune.Recipes.Schema;

/// <summary>
/// One row of the recipe schema: a dotted YAML key, how its value is read, checked, stored in the
/// <see cref="Recipe"/> records and written back, and what it means. Parsing, <see cref="Recipe.ToYaml"/> and
/// <see cref="RecipeDocs"/> all iterate the same rows (<see cref="RecipeSchema.Keys"/>).
/// </summary>
internal abstract class SchemaKey(string path, string meaning, bool required)
{
    /// <summary>Dotted key, e.g. "lora.r" or "seed".</summary>
    public string Path { get; } = path;

    /// <summary>One line for the key listing.</summary>
    public string Meaning { get; } = meaning;

    /// <summary>A recipe without this key (after overrides) is an error.</summary>
    public bool Required { get; } = required;

    /// <summary>"lora" for "lora.r"; "" for top-level keys.</summary>
    public string Section => Path.Contains('.') ? Path[..Path.IndexOf('.')] : "";

    /// <summary>"r" for "lora.r".</summary>
    public string Name => Path[(Path.IndexOf('.') + 1)..];

    /// <summary>Type plus range, e.g. "integer >= 1".</summary>
    public abstract string TypeDoc { get; }

    /// <summary>The canonical YAML text of this key's value in <paramref name="recipe"/>.</summary>
    public abstract string Format(Recipe recipe);

    /// <summary>Reads <paramref name="node"/>, checks the range, and returns <paramref name="recipe"/> with the value set.</summary>
    public abstract Recipe Apply(Recipe recipe, YamlNode node, ReadContext ctx);
}

/// <summary>A schema row for a value of type <typeparamref name="T"/>.</summary>
internal sealed class SchemaKey<T>(
    string path, ValueType<T> type, Func<Recipe, T> get, Func<Recipe, T, Recipe> set, string meaning,
    Constraint<T>? check = null, bool required = false) : SchemaKey(path, meaning, required)
{
    public override string TypeDoc => check == null ? type.Doc : $"{type.Doc}, {check.Doc}";

    public override string Format(Recipe recipe) => type.Write(get(recipe));

    public override Recipe Apply(Recipe recipe, YamlNode node, ReadContext ctx)
    {
        T value = type.Read(node, ctx);
        if (check != null && !check.Ok(value))
            throw ctx.Fail(node, $"must be {check.Doc}, got {type.Write(value)}");
        return set(recipe, value);
    }
}
