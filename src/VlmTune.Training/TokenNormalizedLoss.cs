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

    /// <summary>(correct, counted) next-token predictions at supervised positions — eval token accuracy.</summary>
    public static (long Correct, long Total) TokenAccuracy(float[] logits, long[] labels, int batch, int vocab)
    {
        int t = labels.Length / batch;
        long correct = 0, total = 0;
        for (int b = 0; b < batch; b++)
            for (int i = 1; i < t; i++)
            {
                long label = labels[b * t + i];
                if (label == -100) continue;
                var row = new ReadOnlySpan<float>(logits, (b * t + i - 1) * vocab, vocab);
                int best = 0;
                for (int k = 1; k < vocab; k++) if (row[k] > row[best]) best = k;
                total++;
                if (best == label) correct++;
            }
        return (correct, total);
    }
}
