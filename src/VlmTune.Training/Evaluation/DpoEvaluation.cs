using VlmTune.Data.Collation;
using VlmTune.Data.Encoding;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;
using VlmTune.Training.Dpo;

namespace VlmTune.Training.Evaluation;

/// <summary>DPO metrics of held-out pairs: the mean loss, TRL's reward metrics (means over pairs) and the pair count.</summary>
public sealed record DpoEvalReport(int Step, double Loss, DpoMetrics Metrics, int Pairs);

/// <summary>
/// Evaluates preference pairs as TRL's DPO eval loop does: policy = the model with its adapters, reference = the same
/// model with the adapters disabled, no dropout, no grad; loss and metrics over every pair (batches of
/// <paramref name="batchSize"/>; the means are over pairs, not over batches).
/// </summary>
public static class DpoEvaluation
{
    public static DpoEvalReport Evaluate(SmolVlmModel model, AdapterSet? adapters, DpoCollator collator, IReadOnlyList<EncodedPair> pairs,
        DpoLossSettings settings, int batchSize, int step = 0, Action<int, int>? progress = null)
    {
        if (pairs.Count == 0) throw new ArgumentException("DPO evaluation: no pairs", nameof(pairs));
        int bs = Math.Max(1, batchSize);
        var batches = Enumerable.Range(0, (pairs.Count + bs - 1) / bs).Select(k =>
        {
            var batch = collator.Collate(pairs.Skip(k * bs).Take(bs).ToList());
            return (Func<(Tensor, Tensor, Tensor, Tensor)>)(() => PairLogps.Compute(model, batch));
        });
        return Evaluate(model, adapters, batches, pairs.Count, settings, step, progress);
    }

    /// <summary>
    /// The same over batches given as functions that compute <see cref="PairLogps"/> for the model's current adapter
    /// state (each is called twice: adapters on, then off), e.g. the trainer's streamed held-out batches.
    /// </summary>
    public static DpoEvalReport Evaluate(SmolVlmModel model, AdapterSet? adapters, IEnumerable<Func<(Tensor Chosen, Tensor Rejected, Tensor ChosenTokens, Tensor RejectedTokens)>> batches,
        int pairs, DpoLossSettings settings, int step = 0, Action<int, int>? progress = null)
    {
        if (pairs == 0) throw new ArgumentException("DPO evaluation: no pairs", nameof(pairs));
        using var _ = GradMode.NoGrad();
        var pc = new List<float>(); var pr = new List<float>(); var rc = new List<float>(); var rr = new List<float>();
        var lc = new List<float>(); var lr = new List<float>();
        bool was = adapters?.Enabled ?? true;
        foreach (var logps in batches)
        {
            var policy = logps();
            if (adapters != null) adapters.Enabled = false;
            try
            {
                var reference = logps();
                rc.AddRange(reference.Chosen.ToFloatArray());
                rr.AddRange(reference.Rejected.ToFloatArray());
            }
            finally
            {
                if (adapters != null) adapters.Enabled = was;
            }
            pc.AddRange(policy.Chosen.ToFloatArray());
            pr.AddRange(policy.Rejected.ToFloatArray());
            lc.AddRange(policy.ChosenTokens.ToFloatArray());
            lr.AddRange(policy.RejectedTokens.ToFloatArray());
            progress?.Invoke(pc.Count, pairs);
        }
        if (pc.Count != pairs) throw new InvalidOperationException($"DPO evaluation: {pc.Count} pairs evaluated, {pairs} expected");
        var device = model.Device;
        Tensor T(List<float> v) => Ops.FromArray(v.ToArray(), new Shape(v.Count), device);
        var (tpc, tpr) = (T(pc), T(pr));
        var result = DpoLoss.Compute(tpc, tpr, T(rc), T(rr), settings, T(lc), T(lr));
        return new DpoEvalReport(step, result.Loss.Item(), DpoMetrics.From(result, tpc, tpr), pairs);
    }
}
