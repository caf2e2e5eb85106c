using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;

namespace VlmTune.Training.Dpo;

// B = preference pairs in the batch. Inputs are (B) f32 sequence log-probs: the SUM over completion tokens of
// log softmax(logits_{t-1})[y_t] (TRL concatenated_forward), for every loss type; IPO also takes the completion token
// counts (B) Lc, Lr.
//
// Formulas (TRL v0.22 DPOTrainer.dpo_loss; finetune.md §2.5 and errata §6):
//   z        = (πc − πr) − (rc − rr)                                  (TRL's "logits")
//   sigmoid  = −(1−ε)·logσ(βz) − ε·logσ(−βz)                         (ε > 0: cDPO)
//   robust   = (−(1−ε)·logσ(βz) + ε·logσ(−βz)) / (1 − 2ε)
//   hinge    = relu(1 − βz)
//   ipo      = (zₙ − 1/(2β))²,  zₙ = (πc − rc)/Lc − (πr − rr)/Lr       (length normalisation inside the loss only)
//   loss     = mean over B  (+ α·NLL⁺ with RPO: NLL⁺ = −Σ_B πc / Σ_B Lc, TRL rpo_alpha · nll_loss)
//   rewards  = β·(π − r), detached
//
// Everything is built from existing engine ops, so the loss stays on the inputs' device and autograd derives the
// backward: no new kernel. IPO follows current TRL (DPOTrainer._compute_loss: chosen_scores / chosen_mask.sum(),
// the same for rejected): only the loss is length-normalised, so the rewards and logged logps are sequence SUMS for
// every loss type. (TRL ≤ 0.22 normalised the log-probs themselves, which made IPO's logged rewards per-token; zₙ is
// algebraically the same, so the IPO loss and its gradients are unchanged.)
/// <summary>The DPO loss family on engine tensors (pure; differentiable; device-resident).</summary>
public static class DpoLoss
{
    /// <summary>
    /// Computes the DPO loss and the implicit rewards.
    /// </summary>
    /// <param name="policyChosen">(B) log πθ(y⁺|x)</param>
    /// <param name="policyRejected">(B) log πθ(y⁻|x)</param>
    /// <param name="refChosen">(B) log πref(y⁺|x) (normally computed without grad)</param>
    /// <param name="refRejected">(B) log πref(y⁻|x)</param>
    /// <param name="chosenTokens">(B) f32 completion token counts of the chosen sequences (each ≥ 1); required for IPO.</param>
    /// <param name="rejectedTokens">(B) f32 completion token counts of the rejected sequences; required for IPO.</param>
    public static DpoLossResult Compute(Tensor policyChosen, Tensor policyRejected, Tensor refChosen, Tensor refRejected,
        DpoLossSettings settings, Tensor? chosenTokens = null, Tensor? rejectedTokens = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        CheckInputs(policyChosen, policyRejected, refChosen, refRejected);
        float beta = settings.Beta, eps = settings.LabelSmoothing;

        var z = Ops.Sub(Ops.Sub(policyChosen, policyRejected), Ops.Sub(refChosen, refRejected));   // (B)
        Tensor losses = settings.LossType switch                                                     // (B)
        {
            DpoLossType.Sigmoid => SmoothedSigmoid(z, beta, eps, robust: false),
            DpoLossType.Robust => SmoothedSigmoid(z, beta, eps, robust: true),
            DpoLossType.Hinge => Ops.Relu(Ops.AddScalar(Ops.Scale(z, -beta), 1f)),
            DpoLossType.Ipo => Ops.Square(Ops.AddScalar(IpoDelta(policyChosen, policyRejected, refChosen, refRejected, chosenTokens, rejectedTokens), -1f / (2f * beta))),
            _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.LossType, "unknown DPO loss type"),
        };
        var loss = Ops.Mean(losses);
        Tensor? nll = null;
        if (settings.RpoAlpha > 0f)
        {
            if (chosenTokens == null) throw new ArgumentException("DPO loss: rpo_alpha needs the completion token counts of the chosen sequences");
            nll = Ops.Div(Ops.Neg(Ops.Sum(policyChosen)), Ops.Sum(chosenTokens));
            loss = Ops.Add(loss, Ops.Scale(nll, settings.RpoAlpha));
        }

        Tensor chosenRewards, rejectedRewards;
        using (GradMode.NoGrad())
        {
            chosenRewards = Ops.Scale(Ops.Sub(policyChosen.Detach(), refChosen.Detach()), beta);
            rejectedRewards = Ops.Scale(Ops.Sub(policyRejected.Detach(), refRejected.Detach()), beta);
        }
        return new DpoLossResult(loss, chosenRewards, rejectedRewards, nll?.Detach());
    }

    /// <summary>zₙ = (πc − rc)/Lc − (πr − rr)/Lr: IPO's length-normalised log-ratio difference (B).</summary>
    static Tensor IpoDelta(Tensor pc, Tensor pr, Tensor rc, Tensor rr, Tensor? lc, Tensor? lr)
    {
        if (lc == null || lr == null)
            throw new ArgumentException("DPO loss: IPO needs the completion token counts of the chosen and rejected sequences");
        if (lc.Shape != pc.Shape || lr.Shape != pc.Shape)
            throw new ShapeException($"DPO loss: IPO token counts {lc.Shape}, {lr.Shape} must be (B) like the log-probs {pc.Shape}");
        return Ops.Sub(LengthNormalise(Ops.Sub(pc, rc), lc), LengthNormalise(Ops.Sub(pr, rr), lr));
    }

    /// <summary>
    /// Numerically stable log σ(x) from existing ops: (x − |x|)/2 − log(1 + exp(−|x|)).
    /// (x − |x|)/2 is min(x, 0); writing it this way (Abs has derivative 0 at 0) gives the exact derivative
    /// σ(−x) everywhere, including 1/2 at x = 0 — where policy = reference, i.e. at the first DPO step. The naive
    /// log(sigmoid(x)) would reach −∞ for x below about −88 in f32.
    /// </summary>
    public static Tensor LogSigmoid(Tensor x)
    {
        var abs = Ops.Abs(x);
        var minPart = Ops.Scale(Ops.Sub(x, abs), 0.5f);
        var softPart = Ops.Log(Ops.AddScalar(Ops.Exp(Ops.Neg(abs)), 1f));
        return Ops.Sub(minPart, softPart);
    }

    /// <summary>
    /// Per-token (length-normalised) log-probs: <paramref name="logpSums"/> (B) divided by
    /// <paramref name="tokenCounts"/> (B, f32, each ≥ 1: the completion tokens of each sequence). Differentiable.
    /// </summary>
    public static Tensor LengthNormalise(Tensor logpSums, Tensor tokenCounts)
    {
        if (logpSums.Rank != 1 || tokenCounts.Shape != logpSums.Shape)
            throw new ShapeException($"DPO length normalisation: log-prob sums {logpSums.Shape} and token counts {tokenCounts.Shape} must both be (B)");
        return Ops.Div(logpSums, tokenCounts);
    }

    /// <summary>Host-count overload of <see cref="LengthNormalise(Tensor, Tensor)"/>; every count must be ≥ 1.</summary>
    public static Tensor LengthNormalise(Tensor logpSums, ReadOnlySpan<int> tokenCounts)
    {
        if (logpSums.Rank != 1 || tokenCounts.Length != logpSums.Shape[0])
            throw new ShapeException($"DPO length normalisation: {tokenCounts.Length} token counts for log-prob sums {logpSums.Shape}");
        var counts = new float[tokenCounts.Length];
        for (int i = 0; i < counts.Length; i++)
        {
            if (tokenCounts[i] < 1)
                throw new ArgumentOutOfRangeException(nameof(tokenCounts), tokenCounts[i],
                    $"DPO length normalisation: sequence {i} has {tokenCounts[i]} completion tokens; at least 1 is needed");
            counts[i] = tokenCounts[i];
        }
        return Ops.Div(logpSums, Ops.FromArray(counts, logpSums.Shape, logpSums.Device));
    }

    // sigmoid (cDPO): −(1−ε)·logσ(βz) − ε·logσ(−βz);  robust: (−(1−ε)·logσ(βz) + ε·logσ(−βz)) / (1−2ε)
    static Tensor SmoothedSigmoid(Tensor z, float beta, float eps, bool robust)
    {
        var betaZ = Ops.Scale(z, beta);
        var main = Ops.Scale(LogSigmoid(betaZ), -(1f - eps));
        if (eps == 0f) return main;
        var flipped = Ops.Scale(LogSigmoid(Ops.Neg(betaZ)), robust ? eps : -eps);
        var sum = Ops.Add(main, flipped);
        return robust ? Ops.Scale(sum, 1f / (1f - 2f * eps)) : sum;
    }

    static void CheckInputs(Tensor pc, Tensor pr, Tensor rc, Tensor rr)
    {
        ArgumentNullException.ThrowIfNull(pc);
        ArgumentNullException.ThrowIfNull(pr);
        ArgumentNullException.ThrowIfNull(rc);
        ArgumentNullException.ThrowIfNull(rr);
        if (pc.Rank != 1 || pc.Shape[0] == 0 || pr.Shape != pc.Shape || rc.Shape != pc.Shape || rr.Shape != pc.Shape)
            throw new ShapeException(
                $"DPO loss: log-probs must all be (B) with B ≥ 1; got policy chosen {pc.Shape}, policy rejected {pr.Shape}, " +
                $"reference chosen {rc.Shape}, reference rejected {rr.Shape}");
        foreach (var (t, name) in new[] { (pc, "policy chosen"), (pr, "policy rejected"), (rc, "reference chosen"), (rr, "reference rejected") })
            if (t.DType != DType.F32) throw new ShapeException($"DPO loss: {name} log-probs must be f32, got {t.DType.Name()}");
    }
}
