namespace VlmTune.Recipes;

/// <summary>DPO loss variant (YAML <c>dpo.loss</c>; TRL <c>loss_type</c> names).</summary>
public enum DpoLossType
{
    /// <summary><c>sigmoid</c>: -log sigmoid(beta*delta); with label_smoothing > 0 it is cDPO.</summary>
    Sigmoid,
    /// <summary><c>ipo</c>: (delta_avg - 1/(2 beta))^2 with the log-ratios length-normalised inside the loss (logged rewards/logps are sums).</summary>
    Ipo,
    /// <summary><c>hinge</c>: relu(1 - beta*delta).</summary>
    Hinge,
    /// <summary><c>robust</c>: label-noise-robust DPO with epsilon = label_smoothing.</summary>
    Robust,
}
