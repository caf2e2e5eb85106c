namespace VlmTune.Processing;

/// <summary>
/// Samples padded to a common tile count, as HF's <c>pad</c> does (spec §4.2 step 6, §2.1).
/// Legend: B = samples, N = max tiles over the batch, M = tile edge.
/// Padding tiles are all-zero pixels with mask 0; a real tile can never be all zero (pixel 0 normalises to −1).
/// </summary>
public sealed class ProcessedImageBatch
{
    /// <summary>(B, N, 3, M, M) float32.</summary>
    public float[] PixelValues { get; }
    /// <summary>(B, N): true for a real tile, false for padding. The per-pixel mask is this value repeated M×M.</summary>
    public bool[] TileMask { get; }
    public int BatchSize { get; }
    public int MaxTiles { get; }
    public int TileSize { get; }
    /// <summary>The unpadded per-sample results (rows / cols for the prompt expansion).</summary>
    public IReadOnlyList<ProcessedImages> Samples { get; }

    ProcessedImageBatch(float[] pixelValues, bool[] tileMask, int batchSize, int maxTiles, int tileSize, IReadOnlyList<ProcessedImages> samples)
    {
        PixelValues = pixelValues;
        TileMask = tileMask;
        BatchSize = batchSize;
        MaxTiles = maxTiles;
        TileSize = tileSize;
        Samples = samples;
    }

    public static ProcessedImageBatch Pad(IReadOnlyList<ProcessedImages> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new ArgumentException("a batch needs at least one sample", nameof(samples));
        int m = samples[0].TileSize;
        for (int i = 1; i < samples.Count; i++)
            if (samples[i].TileSize != m)
                throw new ArgumentException($"sample {i} has {samples[i].TileSize}-pixel tiles, sample 0 has {m}", nameof(samples));
        int maxTiles = samples.Max(s => s.TileCount);
        long tileFloats = 3L * m * m;
        var pixels = new float[checked(samples.Count * maxTiles * tileFloats)];
        var mask = new bool[samples.Count * maxTiles];
        for (int b = 0; b < samples.Count; b++)
        {
            samples[b].PixelValues.AsSpan().CopyTo(pixels.AsSpan((int)(b * maxTiles * tileFloats)));
            mask.AsSpan(b * maxTiles, samples[b].TileCount).Fill(true);
        }
        return new ProcessedImageBatch(pixels, mask, samples.Count, maxTiles, m, samples.ToArray());
    }

    /// <summary>HF's pixel_attention_mask (B, N, M, M) as bytes (1 = real pixel), for callers that want it expanded.</summary>
    public byte[] BuildPixelAttentionMask()
    {
        int plane = TileSize * TileSize;
        var mask = new byte[checked(TileMask.Length * plane)];
        for (int i = 0; i < TileMask.Length; i++)
            if (TileMask[i]) mask.AsSpan(i * plane, plane).Fill(1);
        return mask;
    }
}
