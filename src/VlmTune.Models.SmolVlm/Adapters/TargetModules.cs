using VlmTune.Checkpoints.Peft;

namespace VlmTune.Models.SmolVlm.Adapters;

/// <summary>PEFT target_modules: a name list, a full-match regex, or "all-linear".</summary>
public sealed record TargetModules
{
    public TargetKind Kind { get; private init; }
    /// <summary>The names (Kind = Names), in the order given.</summary>
    public IReadOnlyList<string> Names { get; private init; } = [];
    /// <summary>The regex (Kind = Regex).</summary>
    public string Pattern { get; private init; } = "";

    public static TargetModules FromNames(params string[] names)
    {
        if (names.Length == 0) throw new ArgumentException("target_modules needs at least one name");
        foreach (var n in names)
            if (string.IsNullOrWhiteSpace(n)) throw new ArgumentException("target_modules contains an empty name");
        return new TargetModules { Kind = TargetKind.Names, Names = names.ToArray() };
    }

    public static TargetModules FromRegex(string pattern)
    {
        if (string.IsNullOrEmpty(pattern)) throw new ArgumentException("target_modules regex is empty");
        return new TargetModules { Kind = TargetKind.Regex, Pattern = pattern };
    }

    public static TargetModules AllLinear { get; } = new() { Kind = TargetKind.AllLinear };

    /// <summary>target_modules as adapter_config.json has it (a string is "all-linear", case-insensitive, or a regex).</summary>
    public static TargetModules FromPeft(PeftAdapterConfig config)
    {
        if (config.TargetModules != null) return FromNames([.. config.TargetModules]);
        string s = config.TargetModulesPattern!;
        return s.Equals(PeftAdapterConfig.AllLinear, StringComparison.OrdinalIgnoreCase) ? AllLinear : FromRegex(s);
    }

    public override string ToString() => Kind switch
    {
        TargetKind.Names => "[" + string.Join(", ", Names) + "]",
        TargetKind.Regex => $"regex '{Pattern}'",
        _ => PeftAdapterConfig.AllLinear,
    };
}
