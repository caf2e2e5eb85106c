using VlmTune.Models.SmolVlm;
using VlmTune.Tensors;

namespace VlmTune.Training;

/// <summary>
/// The SFT loss shared by every trainer: next-token cross-entropy summed over the supervised tokens of a micro-batch
/// and divided by the supervised-token count of the WHOLE optimiser step (all its accumulation micro-batches), so
/// accumulating k micro-batches equals one batch of k× the size. Legend: B batch, T tokens, V vocabulary.
/// </summary>
public static class TokenNormalizedLoss
{
    /// <summary>logits (B, T, V), labels (B, T) aligned with the inputs (HF convention): position t predicts label t+1.</summary>
    public static Tensor Compute(Tensor logits, Tensor labels, long stepSupervisedTokens)
    {
        var (b, t, v) = logits.Shape.Dims3();
        var shiftedLogits = Ops.Narrow(logits, 1, 0, t - 1);
        var shiftedLabels = Ops.Contiguous(Ops.Narrow(labels, 1, 1, t - 1));
        var sum = Ops.CrossEntropy(shiftedLogits, shiftedLabels, mean: false);
        return Ops.Scale(sum, 1f / Math.Max(1, stepSupervisedTokens));
    }

    /// <summary>
    /// The same loss from final hidden states (B, T, Dt) with logits computed at the supervised rows only (the terms and
    /// their order are those of <see cref="Compute(Tensor, Tensor, long)"/>; what is skipped is the vocabulary
    /// projection of positions the loss ignores).
    /// </summary>
    public static Tensor Compute(SmolVlmModel model, Tensor hidden, SupervisedTokens scored, long stepSupervisedTokens) =>
        Ops.Scale(scored.NllSum(model, hidden), 1f / Math.Max(1, stepSupervisedTokens));

    /// <summary>Supervised (predicted) tokens of a label array (B, T): labels ≠ −100 at positions 1..T−1.</summary>
    public static long CountSupervised(long[] labels, int batch)
    {
        int t = labels.Length / batch;
        long n = 0;
        for (int b = 0; b < batch; b++)
            for (int i = 1; i < t; i++)
                if (labels[b * t + i] != -100) n++;
        return n;
    }
}
