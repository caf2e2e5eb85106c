namespace VlmTune.Models.SmolVlm;

/// <summary>
/// One batch of model inputs in host memory (what the collator produces). Legend: B batch, L tokens, N tiles per
/// sample (padded with all-zero tiles), M tile edge.
/// </summary>
public sealed record SmolVlmInputs
{
    /// <summary>(B, L) token ids.</summary>
    public required long[] InputIds { get; init; }
    public required int Batch { get; init; }
    public int Length => InputIds.Length / Batch;
    /// <summary>(B, L), 1 = real token, 0 = padding; null = all real.</summary>
    public long[]? AttentionMask { get; init; }
    /// <summary>(B, N, 3, M, M) normalised pixels; tiles that are exactly all zero are padding and dropped.</summary>
    public float[]? PixelValues { get; init; }
    public int TilesPerSample { get; init; }
    public int TileSize { get; init; }
    /// <summary>(B, N, M, M) pixel mask (true = real pixel); null = all real.</summary>
    public bool[]? PixelAttentionMask { get; init; }
}
