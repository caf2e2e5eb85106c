namespace VlmTune.Training.Dpo;

/// <summary>
/// Watches the DPO batch metrics for over-optimisation: <c>rewards/accuracies</c> saturated at 1.0 over a window of
/// steps while <c>rewards/margins</c> keeps growing. Past that point the preference data has nothing left to teach;
/// the loss still pays for a larger margin, which the policy can buy by moving probability off both answers (the
/// chosen answers' own log-probs fall — likelihood displacement) and by drifting from the reference; held-out
/// answers then degrade while every training metric looks perfect. Warns once, with what to do.
/// </summary>
public sealed class OverOptimisationWatch(int window = 10)
{
    readonly Queue<(int Step, DpoMetrics M)> _recent = new();
    bool _warned;

    /// <summary>Feeds one optimiser step's metrics; returns the warning the first time the pattern holds, else null.</summary>
    public string? Observe(int step, DpoMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        _recent.Enqueue((step, m));
        if (_recent.Count > window) _recent.Dequeue();
        if (_warned || _recent.Count < window) return null;
        var w = _recent.ToArray();
        if (w.Any(x => x.M.RewardsAccuracies < 1f)) return null;
        int half = window / 2;
        double early = w[..half].Average(x => x.M.RewardsMargins), late = w[half..].Average(x => x.M.RewardsMargins);
        if (!(late > early * 1.25 && late > early + 0.1)) return null;
        _warned = true;
        // Displacement is named only when it is a real share of the margin: a chosen reward of -0.0002 beside a margin
        // of 5 is the chosen answers staying put, not losing probability.
        double chosen = w[half..].Average(x => x.M.RewardsChosen);
        bool displaced = chosen < -0.1 * late;
        return $"DPO over-optimisation: rewards/accuracies has been 1.00 on every batch of steps {w[0].Step}–{w[^1].Step} while " +
               $"rewards/margins kept growing ({early:F2} → {late:F2})" +
               (displaced ? $" and the chosen answers lose probability too (rewards/chosen {chosen:F2}): mass moves to answers that are neither chosen nor rejected" : "") +
               ". The pairs have nothing left to teach; held-out answers gain nothing more and may get worse from here: stop earlier (train.max_steps), " +
               "raise dpo.beta, lower train.lr, and watch a held-out set (data.eval) rather than the training rewards";
    }
}
