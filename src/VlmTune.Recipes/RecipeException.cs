namespace VlmTune.Recipes;

/// <summary>
/// A recipe that cannot run: unknown key, wrong type, bad value, missing required key, or inconsistent settings.
/// The message names where and what, e.g. <c>recipe.yaml:12:5: lora.r: expected an integer, got "eight"</c> or
/// <c>--set lora.rr: unknown key (did you mean lora.r?)</c>.
/// </summary>
public sealed class RecipeException : Exception
{
    public RecipeException(string message) : base(message) { }

    /// <summary>The recipe file, or null when the problem is in a <c>--set</c> override.</summary>
    public string? File { get; private init; }
    /// <summary>1-based line in <see cref="File"/> (0 when unknown).</summary>
    public int Line { get; private init; }
    /// <summary>1-based column in <see cref="File"/> (0 when unknown).</summary>
    public int Column { get; private init; }
    /// <summary>The dotted key, e.g. <c>lora.r</c>, when the problem belongs to one.</summary>
    public string? Key { get; private init; }
    /// <summary>The message without the location prefix.</summary>
    public string Reason { get; private init; } = "";

    /// <summary><c>{file}:{line}:{column}: {key}: {reason}</c> (the key part is left out when null).</summary>
    public static RecipeException InFile(string file, int line, int column, string? key, string reason) =>
        new($"{file}:{line}:{column}: {(key == null ? "" : key + ": ")}{reason}")
        { File = file, Line = line, Column = column, Key = key, Reason = reason };

    /// <summary><c>--set {key}: {reason}</c>.</summary>
    public static RecipeException InOverride(string key, string reason) =>
        new($"--set {key}: {reason}") { Key = key, Reason = reason };
}
