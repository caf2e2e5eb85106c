namespace VlmTune.Recipes;

/// <summary>
/// YAML <c>lora.targets</c>: either PEFT module names (a module matches when its path equals a name or ends with
/// "." + name) or every linear layer except lm_head (<c>all-linear</c>). The regex alternative is
/// <see cref="LoraSection.TargetsRegex"/>; exactly one of the two is set in a valid recipe.
/// </summary>
public sealed record LoraTargets
{
    /// <summary>The YAML spelling of <see cref="AllLinear"/>.</summary>
    public const string AllLinearName = "all-linear";

    /// <summary>True for <c>all-linear</c>; then <see cref="Names"/> is empty.</summary>
    public bool IsAllLinear { get; private init; }

    /// <summary>Module names in the order given (empty for all-linear).</summary>
    public ValueList<string> Names { get; private init; } = ValueList<string>.Empty;

    public static LoraTargets AllLinear { get; } = new() { IsAllLinear = true };

    public static LoraTargets Of(params string[] names) => new() { Names = new ValueList<string>(names) };

    public override string ToString() => IsAllLinear ? AllLinearName : Names.ToString();
}
