namespace VlmTune.Training.Dpo;

/// <summary>Settings of <see cref="DpoLoss.Compute"/>. Defaults are TRL's (β = 0.1, sigmoid, no smoothing).</summary>
public sealed record DpoLossSettings
{
    /// <summary>β: the strength of the implicit KL penalty (for IPO it is the paper's τ). Must be &gt; 0.</summary>
    public float Beta { get; init; } = 0.1f;

    public DpoLossType LossType { get; init; } = DpoLossType.Sigmoid;

    /// <summary>
    /// ε: the assumed probability that a preference label is flipped, in [0, 0.5). Used by
    /// <see cref="DpoLossType.Sigmoid"/> (cDPO) and <see cref="DpoLossType.Robust"/>; must be 0 for Ipo and Hinge.
    /// </summary>
    public float LabelSmoothing { get; init; }

    /// <summary>
    /// RPO weight α ≥ 0 (TRL <c>rpo_alpha</c>; 0 = off): the loss gains α · (−Σ log πθ(y⁺|x) / Σ |y⁺|), the chosen
    /// completions' mean token NLL over the batch. Needs the chosen token counts.
    /// </summary>
    public float RpoAlpha { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (!(Beta > 0f) || !float.IsFinite(Beta))
            throw new ArgumentOutOfRangeException(nameof(Beta), Beta, $"DPO beta must be a positive finite number, got {Beta}");
        if (!(LabelSmoothing >= 0f && LabelSmoothing < 0.5f))
            throw new ArgumentOutOfRangeException(nameof(LabelSmoothing), LabelSmoothing,
                $"DPO label_smoothing must be in [0, 0.5), got {LabelSmoothing}");
        if (!(RpoAlpha >= 0f) || !float.IsFinite(RpoAlpha))
            throw new ArgumentOutOfRangeException(nameof(RpoAlpha), RpoAlpha, $"DPO rpo_alpha must be a non-negative finite number, got {RpoAlpha}");
        if (LabelSmoothing != 0f && LossType is DpoLossType.Ipo or DpoLossType.Hinge)
            throw new ArgumentOutOfRangeException(nameof(LabelSmoothing), LabelSmoothing,
                $"DPO label_smoothing is only defined for the sigmoid (cDPO) and robust losses, not {LossType}; set it to 0");
    }
}
