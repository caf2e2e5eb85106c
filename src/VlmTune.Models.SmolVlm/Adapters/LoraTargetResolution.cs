namespace VlmTune.Models.SmolVlm.Adapters;

/// <summary>
/// The outcome of <see cref="LoraTargets.Resolve(IReadOnlyList{LinearInfo}, LoraSettings)"/>: what gets adapted, what
/// is trained in full, how many trainable parameters that makes, and plain-language warnings.
/// </summary>
public sealed record LoraTargetResolution
{
    /// <summary>Modules that get a LoRA/DoRA adapter, in model order.</summary>
    public required IReadOnlyList<LinearInfo> Modules { get; init; }
    /// <summary>Everything PEFT's own matching would adapt (before the tower filter).</summary>
    public required IReadOnlyList<LinearInfo> PeftMatches { get; init; }
    /// <summary>modules_to_save linears (trainable full copies), in model order.</summary>
    public required IReadOnlyList<LinearInfo> ModulesToSave { get; init; }
    /// <summary>Adapted modules per tower (towers with none are absent).</summary>
    public required IReadOnlyDictionary<Tower, int> CountsByTower { get; init; }
    /// <summary>A, B (and m) of every adapted module plus every modules_to_save weight and bias.</summary>
    public required long TrainableParameters { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }

    public IEnumerable<string> ModulePaths => Modules.Select(m => m.Path);
}
