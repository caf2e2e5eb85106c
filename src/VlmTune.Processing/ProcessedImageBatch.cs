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
    /// <summary>(B): real tiles per sample.</summary>
    public int[] TileCounts { get; }
    /// <summary>(B)(images of the sample): tile rows per image, 0 when not split — for the prompt expansion.</summary>
    public int[][] ImageRows { get; }
    /// <summary>(B)(images of the sample): tile columns per image, 0 when not split.</summary>
    public int[][] ImageCols { get; }

    internal ProcessedImageBatch(float[] pixelValues, int[] tileCounts, int tileSize, int[][] imageRows, int[][] imageCols)
    {
        BatchSize = tileCounts.Length;
        MaxTiles = tileCounts.Max();
        if (pixelValues.Length != (long)BatchSize * MaxTiles * 3 * tileSize * tileSize)
            throw new ArgumentException($"expected ({BatchSize}, {MaxTiles}, 3, {tileSize}, {tileSize}) floats, got {pixelValues.Length}", nameof(pixelValues));
        PixelValues = pixelValues;
        TileSize = tileSize;
        TileCounts = tileCounts;
        ImageRows = imageRows;
        ImageCols = imageCols;
        TileMask = new bool[BatchSize * MaxTiles];
        for (int b = 0; b < BatchSize; b++)
            TileMask.AsSpan(b * MaxTiles, tileCounts[b]).Fill(true);
    }

    /// <summary>Pads already processed samples (copies their pixels into one buffer).</summary>
    public static ProcessedImageBatch Pad(IReadOnlyList<ProcessedImages> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new ArgumentException("a batch needs at least one sample", nameof(samples));
        int m = samples[0].TileSize;
        for (int i = 1; i < samples.Count; i++)
            if (samples[i].TileSize != m)
                throw new ArgumentException($"sample {i} has {samples[i].TileSize}-pixel tiles, sample 0 has {m}", nameof(samples));
        int maxTiles = samples.Max(s => s.TileCount);
        long sampleFloats = 3L * m * m * maxTiles;
        var pixels = new float[checked(samples.Count * sampleFloats)];
        for (int b = 0; b < samples.Count; b++)
            samples[b].PixelValues.AsSpan().CopyTo(pixels.AsSpan((int)(b * sampleFloats)));
        return new ProcessedImageBatch(pixels, samples.Select(s => s.TileCount).ToArray(), m,
            samples.Select(s => s.ImageRows).ToArray(), samples.Select(s => s.ImageCols).ToArray());
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
