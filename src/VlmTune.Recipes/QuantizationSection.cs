namespace VlmTune.Recipes;

/// <summary>
/// YAML <c>quantization:</c> — QLoRA storage of the frozen base weights. Omitting the section means plain LoRA
/// (<see cref="Enabled"/> false); writing the section without <c>enabled</c> turns it on.
/// </summary>
public sealed record QuantizationSection
{
    public bool Enabled { get; init; }
    public QuantType Type { get; init; } = QuantType.Nf4;
    /// <summary>Quantise the per-block absmax constants again (8-bit, blocks of 256).</summary>
    public bool DoubleQuant { get; init; } = true;
    /// <summary>Weights per absmax block: a power of two in 32..4096 (bitsandbytes default 64).</summary>
    public int Blocksize { get; init; } = 64;
    /// <summary>Module names kept in 16-bit.</summary>
    public ValueList<string> Skip { get; init; } = ValueList<string>.Of("lm_head");
}
