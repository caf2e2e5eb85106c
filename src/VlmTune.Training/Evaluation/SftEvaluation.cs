using VlmTune.Data.Collation;
using VlmTune.Data.Encoding;
using VlmTune.Models.SmolVlm;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;

namespace VlmTune.Training.Evaluation;

/// <summary>One record's teacher-forced score: Σ −log p over its supervised tokens, their count, and how many the argmax got right.</summary>
public readonly record struct SftRecordScore(double Nll, long Tokens, long Correct)
{
    public double Loss => Tokens == 0 ? 0 : Nll / Tokens;
    public double TokenAccuracy => Tokens == 0 ? 0 : (double)Correct / Tokens;
}

/// <summary>
/// Teacher-forced SFT evaluation per record, in batches (the loss and accuracy rules of the trainer's eval: position
/// t predicts label t+1, only supervised labels count). The dataset loss is Σ Nll / Σ Tokens (token-weighted, as
/// the trainer's eval_loss), not the mean of the per-record losses.
/// </summary>
public static class SftEvaluation
{
    public static IReadOnlyList<SftRecordScore> Score(SmolVlmModel model, SftCollator collator, IReadOnlyList<EncodedSample> samples,
        int batchSize, Action<int, int>? progress = null)
    {
        using var _ = GradMode.NoGrad();
        var scores = new List<SftRecordScore>(samples.Count);
        for (int i = 0; i < samples.Count; i += Math.Max(1, batchSize))
        {
            var b = collator.Collate(samples.Skip(i).Take(Math.Max(1, batchSize)).ToList());
            var inputs = new SmolVlmInputs
            {
                InputIds = b.InputIds, Batch = b.BatchSize, AttentionMask = b.AttentionMask,
                PixelValues = b.MaxTiles > 0 ? b.PixelValues : null, TilesPerSample = b.MaxTiles, TileSize = b.TileSize,
            };
            var logits = model.Forward(inputs);                                              // (B, T, V)
            int t = b.SequenceLength, v = logits.Shape[2];
            var labels = Ops.FromArray(b.Labels, new Shape(b.BatchSize, t), model.Device);
            var logp = Ops.TokenLogProbs(Ops.Narrow(logits, 1, 0, t - 1), Ops.Contiguous(Ops.Narrow(labels, 1, 1, t - 1)));
            var nll = Ops.Sum(logp, 1).ToFloatArray();                                       // (B), 0 at ignored labels
            var flat = logits.ToFloatArray();
            for (int r = 0; r < b.BatchSize; r++)
            {
                var rowLabels = b.Labels.AsSpan(r * t, t).ToArray();
                var (correct, total) = TokenNormalizedLoss.TokenAccuracy(flat[(r * t * v)..((r + 1) * t * v)], rowLabels, 1, v);
                scores.Add(new SftRecordScore(-nll[r], total, correct));
            }
            progress?.Invoke(scores.Count, samples.Count);
        }
        return scores;
    }
}
