using VlmTune.Tensors;

namespace VlmTune.Data.Collation;

/// <summary>
/// A padded SFT batch as plain row-major arrays. Legend: B = samples, T = longest sample, N = most tiles of a sample,
/// M = tile edge. Text is right-padded with the pad id (attention 0, label −100); samples with fewer tiles are
/// padded with all-zero tiles whose <see cref="TileMask"/> entry is 0 (HF's pixel_attention_mask is that value
/// repeated over the M×M pixels: every real tile is a full M×M image).
/// </summary>
public sealed record SftBatch
{
    public required int BatchSize { get; init; }
    public required int SequenceLength { get; init; }
    /// <summary>(B, T)</summary>
    public required long[] InputIds { get; init; }
    /// <summary>(B, T) 1 on real tokens, 0 on padding.</summary>
    public required long[] AttentionMask { get; init; }
    /// <summary>(B, T) −100 on padding, image tokens and (by default) everything outside assistant turns.</summary>
    public required long[] Labels { get; init; }
    public required int MaxTiles { get; init; }
    public required int TileSize { get; init; }
    /// <summary>(B, N, 3, M, M) normalised pixels; empty when N = 0.</summary>
    public required float[] PixelValues { get; init; }
    /// <summary>(B, N) 1 on real tiles.</summary>
    public required byte[] TileMask { get; init; }

    /// <summary>Copies the arrays to <paramref name="device"/> (pixel tensors are null when the batch has no image).</summary>
    public SftBatchTensors ToTensors(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var bt = new Shape(BatchSize, SequenceLength);
        Tensor? pixels = null, tiles = null;
        if (MaxTiles > 0)
        {
            pixels = Ops.FromArray(PixelValues, new Shape(BatchSize, MaxTiles, 3, TileSize, TileSize), device);
            tiles = Ops.FromArray(TileMask, new Shape(BatchSize, MaxTiles), device);
        }
        return new SftBatchTensors(Ops.FromArray(InputIds, bt, device), Ops.FromArray(AttentionMask, bt, device),
            Ops.FromArray(Labels, bt, device), pixels, tiles);
    }
}
