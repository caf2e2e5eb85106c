using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace VlmTune.Recipes.Schema;

/// <summary>integer: a plain YAML int such as 8 or -3 (not 8.0, not "8").</summary>
internal sealed partial class IntValue : ValueType<int>
{
    public static IntValue Instance { get; } = new();

    public override string Doc => "integer";

    public override int Read(YamlNode node, ReadContext ctx)
    {
        if (node is YamlScalarNode s && YamlText.IsPlain(s) && s.Value != null && IntPattern().IsMatch(s.Value))
        {
            if (int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)) return v;
            throw ctx.Fail(node, $"expected an integer, got {YamlText.Describe(node)} (out of range)");
        }
        throw ctx.Fail(node, $"expected an integer, got {YamlText.Describe(node)}");
    }

    public override string Write(int value) => YamlText.FormatInt(value);

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntPattern();
}

/// <summary>auto | integer: the word auto (stored as −1) or a plain YAML int.</summary>
internal sealed class AutoIntValue : ValueType<int>
{
    public static AutoIntValue Instance { get; } = new();

    public override string Doc => "auto | integer";

    public override int Read(YamlNode node, ReadContext ctx) =>
        node is YamlScalarNode { Value: "auto" } s && YamlText.IsPlain(s) ? -1 : IntValue.Instance.Read(node, ctx);

    public override string Write(int value) => value == -1 ? "auto" : YamlText.FormatInt(value);
}

/// <summary>number: a plain YAML int or float such as 1, 0.1, 1e-4, 1.0e-8 (finite; not "1e-4").</summary>
internal sealed partial class DoubleValue : ValueType<double>
{
    public static DoubleValue Instance { get; } = new();

    public override string Doc => "number";

    public override double Read(YamlNode node, ReadContext ctx)
    {
        if (node is YamlScalarNode s && YamlText.IsPlain(s) && s.Value != null && FloatPattern().IsMatch(s.Value)
            && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v))
            return v;
        throw ctx.Fail(node, $"expected a number, got {YamlText.Describe(node)}");
    }

    public override string Write(double value) => YamlText.FormatDouble(value);

    // YAML 1.2 core schema float/int, without .inf and .nan.
    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}

/// <summary>true | false (plain; yes/no/on/off are YAML 1.1 and rejected).</summary>
internal sealed class BoolValue : ValueType<bool>
{
    public static BoolValue Instance { get; } = new();

    public override string Doc => "true | false";

    public override bool Read(YamlNode node, ReadContext ctx)
    {
        if (node is YamlScalarNode s && YamlText.IsPlain(s))
        {
            if (s.Value is "true" or "True" or "TRUE") return true;
            if (s.Value is "false" or "False" or "FALSE") return false;
        }
        throw ctx.Fail(node, $"expected true or false, got {YamlText.Describe(node)}");
    }

    public override string Write(bool value) => value ? "true" : "false";
}

/// <summary>string: any non-empty scalar (null is not a string; see <see cref="OptionalValue{T}"/>).</summary>
internal sealed class TextValue : ValueType<string>
{
    public static TextValue Instance { get; } = new();

    public override string Doc => "string";

    public override string Read(YamlNode node, ReadContext ctx)
    {
        if (YamlText.IsNull(node)) throw ctx.Fail(node, "expected a string, got null");
        if (node is YamlScalarNode { Value: { Length: > 0 } v }) return v;
        if (node is YamlScalarNode) throw ctx.Fail(node, "expected a non-empty string, got \"\"");
        throw ctx.Fail(node, $"expected a string, got {YamlText.Describe(node)}");
    }

    public override string Write(string value) => YamlText.Quote(value);
}

/// <summary>
/// path: a string made absolute. Relative paths in the recipe file resolve against the recipe's folder
/// (or the working directory for <see cref="FromWorkingDirectory"/> keys); relative paths in <c>--set</c>
/// overrides resolve against the working directory. Existence is not checked here.
/// </summary>
internal sealed class PathValue(bool fromWorkingDirectory, bool hubIds = false) : ValueType<string>
{
    public static PathValue FromRecipe { get; } = new(false);
    public static PathValue FromCwd { get; } = new(true);
    /// <summary>A path relative to the recipe, unless it names a Hugging Face Hub repository (kept as written).</summary>
    public static PathValue FromRecipeOrHub { get; } = new(false, hubIds: true);

    public bool FromWorkingDirectory { get; } = fromWorkingDirectory;

    public override string Doc => "path";

    public override string Read(YamlNode node, ReadContext ctx)
    {
        string s = TextValue.Instance.Read(node, ctx);
        string root = FromWorkingDirectory || ctx.IsOverride ? ctx.WorkingDirectory : ctx.RecipeFolder;
        try
        {
            string full = System.IO.Path.GetFullPath(s, root);
            // org/name[@rev] that is not a local file or folder is a Hub id (an existing local path wins, as in transformers).
            if (hubIds && !File.Exists(full) && !Directory.Exists(full) && !System.IO.Path.IsPathRooted(s)
                && VlmTune.Hub.HubRepoId.TryParse(s, VlmTune.Hub.HubRepoType.Model) is not null)
                return s;
            return full;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw ctx.Fail(node, $"not a valid path: {YamlText.Quote(s)} ({e.Message})");
        }
    }

    public override string Write(string value) => YamlText.Quote(value);
}

/// <summary>A value that may also be null (written as null).</summary>
internal sealed class OptionalValue<T>(ValueType<T> inner) : ValueType<T?> where T : class
{
    public override string Doc => inner.Doc + " | null";

    public override T? Read(YamlNode node, ReadContext ctx) => YamlText.IsNull(node) ? null : inner.Read(node, ctx);

    public override string Write(T? value) => value == null ? "null" : inner.Write(value);
}
