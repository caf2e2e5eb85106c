namespace VlmTune.Training.Dpo;

/// <summary>
/// The DPO loss variants (TRL <c>loss_type</c> names in brackets). z = (πc − πr) − (rc − rr), β = <see cref="DpoLossSettings.Beta"/>,
/// ε = <see cref="DpoLossSettings.LabelSmoothing"/>.
/// </summary>
public enum DpoLossType
{
    /// <summary>["sigmoid"] −(1−ε)·logσ(βz) − ε·logσ(−βz). With ε &gt; 0 this is cDPO (TRL ≤ 0.22 and torchtune; current TRL ignores ε here).</summary>
    Sigmoid,

    /// <summary>["ipo"] (zₙ − 1/(2β))² with zₙ the log-ratios divided by the completion lengths inside the loss (current TRL); rewards and logps stay sums.</summary>
    Ipo,

    /// <summary>["hinge"] relu(1 − βz) (SLiC).</summary>
    Hinge,

    /// <summary>["robust"] (−(1−ε)·logσ(βz) + ε·logσ(−βz)) / (1 − 2ε) (rDPO).</summary>
    Robust,
}
