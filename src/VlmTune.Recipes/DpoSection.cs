namespace VlmTune.Recipes;

/// <summary>YAML <c>dpo:</c> — only with <c>kind: dpo</c>. The reference model is the base with adapters off.</summary>
public sealed record DpoSection
{
    /// <summary>Strength of the implicit KL penalty (TRL default 0.1); > 0.</summary>
    public double Beta { get; init; } = 0.1;
    public DpoLossType Loss { get; init; } = DpoLossType.Sigmoid;
    /// <summary>Label-noise epsilon in [0, 0.5): cDPO with sigmoid, robust DPO with robust; must be 0 for ipo and hinge.</summary>
    public double LabelSmoothing { get; init; }
    /// <summary>
    /// RPO (TRL <c>rpo_alpha</c>): weight of the chosen answers' mean token NLL added to the loss; 0 = off (TRL's
    /// default None). Keeps the chosen answers likely while the margin grows (the RPO paper uses 1.0).
    /// </summary>
    public double RpoAlpha { get; init; }
    /// <summary>Compute the reference log-probs once and cache them on disk, keyed by <see cref="Recipe.Hash"/>.</summary>
    public bool CacheReference { get; init; } = true;
}
