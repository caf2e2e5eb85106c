namespace VlmTune.Recipes;

/// <summary>YAML <c>lora:</c> — the adapter (PEFT <c>LoraConfig</c> fields plus VlmTune's explicit tower filter).</summary>
public sealed record LoraSection
{
    /// <summary>Rank r >= 1.</summary>
    public int R { get; init; } = 8;
    /// <summary>lora_alpha; scaling = alpha / r (alpha / sqrt r with rsLoRA).</summary>
    public double Alpha { get; init; } = 8;
    /// <summary>Dropout on the LoRA branch input, in [0, 1).</summary>
    public double Dropout { get; init; } = 0.1;
    /// <summary>Module names or all-linear; null when <see cref="TargetsRegex"/> is used.</summary>
    public LoraTargets? Targets { get; init; } = LoraTargets.Of("q_proj", "k_proj", "v_proj", "o_proj");
    /// <summary>One regex that must match a module path in full; null when <see cref="Targets"/> is used.</summary>
    public string? TargetsRegex { get; init; }
    /// <summary>Towers whose matching modules get adapters (others are left alone even if a name matches).</summary>
    public ValueList<Tower> Towers { get; init; } = ValueList<Tower>.Of(Tower.Text);
    public bool UseDora { get; init; }
    public bool UseRslora { get; init; }
    public LoraInit Init { get; init; } = LoraInit.Kaiming;
    /// <summary>Modules trained in full and saved with the adapter (PEFT modules_to_save).</summary>
    public ValueList<string> ModulesToSave { get; init; } = ValueList<string>.Empty;
}
