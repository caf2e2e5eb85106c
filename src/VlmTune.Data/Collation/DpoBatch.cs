using VlmTune.Tensors;

namespace VlmTune.Data.Collation;

/// <summary>
/// A padded DPO batch as plain row-major arrays. Legend: B = pairs, T = longest prompt + completion, N = most tiles of
/// a pair, M = tile edge.
/// <code>
/// sequence rows:  0 .. B−1      prompt_b + chosen_b      (right-padded with the pad id)
///                 B .. 2B−1     prompt_b + rejected_b
/// pixel rows:     0 .. B−1      the images of pair b, processed once; used by sequence rows b and B + b
/// </code>
/// This is TRL's [chosen; rejected] concatenation along the batch, except that the images are not repeated: the model
/// runs the vision tower on B samples and gathers features row b for sequence rows b and B + b
/// (<see cref="PixelRowOf"/>). Labels are −100 on the prompt and padding; <see cref="CompletionMask"/> is 1 on the
/// completion tokens (summed log-probs in the DPO loss).
/// </summary>
public sealed record DpoBatch
{
    public required int PairCount { get; init; }
    public required int SequenceLength { get; init; }
    /// <summary>(2B, T)</summary>
    public required long[] InputIds { get; init; }
    /// <summary>(2B, T)</summary>
    public required long[] AttentionMask { get; init; }
    /// <summary>(2B, T) completion ids, −100 elsewhere.</summary>
    public required long[] Labels { get; init; }
    /// <summary>(2B, T) 1 on completion tokens.</summary>
    public required long[] CompletionMask { get; init; }
    /// <summary>(B) prompt length of each pair (the same in both halves).</summary>
    public required int[] PromptLengths { get; init; }
    public required int MaxTiles { get; init; }
    public required int TileSize { get; init; }
    /// <summary>(B, N, 3, M, M)</summary>
    public required float[] PixelValues { get; init; }
    /// <summary>(B, N)</summary>
    public required byte[] TileMask { get; init; }

    /// <summary>The pixel row (pair) that sequence row <paramref name="sequenceRow"/> (0 .. 2B−1) uses.</summary>
    public int PixelRowOf(int sequenceRow) => sequenceRow % PairCount;

    public DpoBatchTensors ToTensors(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var bt = new Shape(2 * PairCount, SequenceLength);
        Tensor? pixels = null, tiles = null;
        if (MaxTiles > 0)
        {
            pixels = Ops.FromArray(PixelValues, new Shape(PairCount, MaxTiles, 3, TileSize, TileSize), device);
            tiles = Ops.FromArray(TileMask, new Shape(PairCount, MaxTiles), device);
        }
        return new DpoBatchTensors(Ops.FromArray(InputIds, bt, device), Ops.FromArray(AttentionMask, bt, device),
            Ops.FromArray(Labels, bt, device), Ops.FromArray(CompletionMask, bt, device), pixels, tiles);
    }
}
