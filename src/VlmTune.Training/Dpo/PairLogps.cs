using VlmTune.Data.Collation;
using VlmTune.Models.SmolVlm;
using VlmTune.Tensors;

namespace VlmTune.Training.Dpo;

/// <summary>
/// Summed completion log-probs of a DPO batch, shared by the trainer, its eval and `vlmtune eval`. Legend: P pairs,
/// rows 0..P−1 = prompt+chosen, P..2P−1 = prompt+rejected, T tokens. Each pair's images go through the vision tower
/// once and the features are shared by its two rows.
/// </summary>
public static class PairLogps
{
    /// <summary>(P) chosen and rejected log-prob sums (differentiable), and (P) f32 completion token counts of each.</summary>
    public static (Tensor Chosen, Tensor Rejected, Tensor ChosenTokens, Tensor RejectedTokens) Compute(SmolVlmModel model, DpoBatch b)
    {
        int p = b.PairCount, t = b.SequenceLength;
        var pairInputs = new SmolVlmInputs
        {
            InputIds = b.InputIds[..(p * t)], Batch = p, PixelValues = b.MaxTiles > 0 ? b.PixelValues : null,
            TilesPerSample = b.MaxTiles, TileSize = b.TileSize,
        };
        var features = model.ImageFeatures(pairInputs, out var perPair);
        return Compute(model, b, features, perPair);
    }

    /// <summary>
    /// As <see cref="Compute(SmolVlmModel, DpoBatch)"/> with the pairs' image features given: (n, S', Dt) of every
    /// pair's tiles in order (null without images) and <paramref name="perPair"/> tiles per pair (the streamed loader's
    /// batches, whose features may come from the image-feature cache).
    /// </summary>
    public static (Tensor Chosen, Tensor Rejected, Tensor ChosenTokens, Tensor RejectedTokens) Compute(SmolVlmModel model, DpoBatch b, Tensor? features, int[] perPair)
    {
        int p = b.PairCount, t = b.SequenceLength;
        var rows = new SmolVlmInputs { InputIds = b.InputIds, Batch = 2 * p, AttentionMask = b.AttentionMask };
        var shared = features == null ? null : Ops.Concat([features, features], 0);
        var embeds = model.Embed(rows, shared, [.. perPair, .. perPair]);
        var hidden = model.DecodeHidden(embeds, 2 * p, b.AttentionMask, null);                     // (2P, T, Dt)
        var scored = SupervisedTokens.Of(b.Labels, 2 * p);
        var sums = scored.SequenceLogProbs(model, hidden);                                           // (2P)
        var counts = scored.CountPerSequence();
        var chosenTokens = Ops.FromArray(counts[..p], new Shape(p), model.Device);
        var rejectedTokens = Ops.FromArray(counts[p..], new Shape(p), model.Device);
        return (Ops.Narrow(sums, 0, 0, p), Ops.Narrow(sums, 0, p, p), chosenTokens, rejectedTokens);
    }
}
