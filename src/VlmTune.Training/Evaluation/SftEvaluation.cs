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
            var hidden = model.DecodeHidden(model.Embed(inputs), b.BatchSize, b.AttentionMask, null);   // (B, T, Dt)
            var scored = SupervisedTokens.Of(b.Labels, b.BatchSize);
            if (scored.Count == 0)
            {
                for (int r = 0; r < b.BatchSize; r++) scores.Add(new SftRecordScore(0, 0, 0));
                progress?.Invoke(scores.Count, samples.Count);
                continue;
            }
            var logits = model.LogitsAt(hidden, scored.Rows);                                  // (N, V)
            var logp = Ops.TokenLogProbs(logits, Ops.FromArray(scored.Targets, new Shape(scored.Count), model.Device)).ToFloatArray();
            var nll = new double[b.BatchSize];
            for (int j = 0; j < logp.Length; j++) nll[scored.Sequence[j]] -= logp[j];
            var correct = scored.CorrectPerSequence(logits.ToFloatArray(), logits.Shape[1]);
            var counts = scored.CountPerSequence();
            for (int r = 0; r < b.BatchSize; r++) scores.Add(new SftRecordScore(nll[r], (long)counts[r], correct[r]));
            progress?.Invoke(scores.Count, samples.Count);
        }
        return scores;
    }
}
