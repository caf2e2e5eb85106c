using VlmTune.Tensors;

namespace VlmTune.Training.Dpo;

/// <summary>
/// The DPO batch metrics, under TRL's names. All are means over the B pairs of the batch, computed on the host in
/// double and stored as float (reading them synchronises with the device):
/// <list type="bullet">
/// <item><c>rewards/chosen</c> = mean β·(πc − rc); <c>rewards/rejected</c> = mean β·(πr − rr).</item>
/// <item><c>rewards/accuracies</c> = fraction of pairs with chosen reward STRICTLY greater than rejected reward
/// (ties count as wrong, so it reads 0 when policy = reference).</item>
/// <item><c>rewards/margins</c> = mean (chosen reward − rejected reward).</item>
/// <item><c>logps/chosen</c>, <c>logps/rejected</c> = mean policy log-probs as passed to the loss: SUMS over completion
/// tokens for every loss type, IPO included (current TRL; its docs say "average"; IPO normalises inside the loss only).</item>
/// </list>
/// </summary>
/// <item><c>nll_loss</c> = the chosen answers' mean token NLL, only with RPO (<c>dpo.rpo_alpha</c>).</item>
public sealed record DpoMetrics(float RewardsChosen, float RewardsRejected, float RewardsAccuracies, float RewardsMargins,
    float LogpsChosen, float LogpsRejected, float? NllLoss = null)
{
    /// <summary>Metrics of one batch from the loss result and the policy log-probs (B) given to the loss.</summary>
    public static DpoMetrics From(DpoLossResult result, Tensor policyChosen, Tensor policyRejected)
    {
        ArgumentNullException.ThrowIfNull(result);
        var chosen = result.ChosenRewards.ToFloatArray();
        var rejected = result.RejectedRewards.ToFloatArray();
        var logpsChosen = policyChosen.ToFloatArray();
        var logpsRejected = policyRejected.ToFloatArray();
        int b = chosen.Length;
        if (rejected.Length != b || logpsChosen.Length != b || logpsRejected.Length != b)
            throw new ShapeException($"DPO metrics: rewards ({chosen.Length}, {rejected.Length}) and log-probs " +
                $"({logpsChosen.Length}, {logpsRejected.Length}) must all have B entries");

        double sumChosen = 0, sumRejected = 0, accurate = 0, sumMargin = 0, sumLpc = 0, sumLpr = 0;
        for (int i = 0; i < b; i++)
        {
            sumChosen += chosen[i];
            sumRejected += rejected[i];
            if (chosen[i] > rejected[i]) accurate++;
            sumMargin += (double)chosen[i] - rejected[i];
            sumLpc += logpsChosen[i];
            sumLpr += logpsRejected[i];
        }
        return new DpoMetrics((float)(sumChosen / b), (float)(sumRejected / b), (float)(accurate / b),
            (float)(sumMargin / b), (float)(sumLpc / b), (float)(sumLpr / b), result.ChosenNll?.Item());
    }

    /// <summary>The metrics under TRL's log keys, in TRL's order.</summary>
    public IReadOnlyList<KeyValuePair<string, float>> Named() =>
    [
        new("rewards/chosen", RewardsChosen),
        new("rewards/rejected", RewardsRejected),
        new("rewards/accuracies", RewardsAccuracies),
        new("rewards/margins", RewardsMargins),
        new("logps/chosen", LogpsChosen),
        new("logps/rejected", LogpsRejected),
        .. NllLoss is { } nll ? [new KeyValuePair<string, float>("nll_loss", nll)] : Array.Empty<KeyValuePair<string, float>>(),
    ];
}
