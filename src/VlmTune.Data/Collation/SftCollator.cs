using VlmTune.Data.Encoding;
using VlmTune.Processing;

namespace VlmTune.Data.Collation;

/// <summary>Pads encoded SFT samples into an <see cref="SftBatch"/> (layout in its summary).</summary>
public sealed class SftCollator
{
    public SftCollator(int padId, int tileSize)
    {
        if (tileSize <= 0) throw new ArgumentOutOfRangeException(nameof(tileSize), $"must be positive, got {tileSize}");
        PadId = padId;
        TileSize = tileSize;
    }

    /// <summary>Collator for <paramref name="processor"/>'s pad id and tile edge.</summary>
    public SftCollator(SmolVlmProcessor processor)
        : this((processor ?? throw new ArgumentNullException(nameof(processor))).PadId, processor.ImageConfig.MaxImageSize) { }

    public int PadId { get; }
    public int TileSize { get; }

    public SftBatch Collate(IReadOnlyList<EncodedSample> samples)
    {
        var text = CollateText(samples);
        var (pixels, tileMask, maxTiles) = PadImages(samples.Select(s => (s.Images, s.ImageRows.Length)).ToList(), TileSize);
        return text with { MaxTiles = maxTiles, PixelValues = pixels, TileMask = tileMask };
    }

    /// <summary>
    /// The text part only (ids, attention, labels; no pixel buffer, <see cref="SftBatch.MaxTiles"/> 0): the streamed
    /// loader hands each image's pixels or cached features over separately (<see cref="Loading.ImageInput"/>).
    /// </summary>
    public SftBatch CollateText(IReadOnlyList<EncodedSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new ArgumentException("a batch needs at least one sample", nameof(samples));
        int b = samples.Count, t = samples.Max(s => s.Length);
        var ids = new long[b * t];
        var attention = new long[b * t];
        var labels = new long[b * t];
        Array.Fill(ids, PadId);
        Array.Fill(labels, LabelMask.IgnoreIndex);
        for (int i = 0; i < b; i++)
        {
            var s = samples[i];
            for (int j = 0; j < s.Length; j++)
            {
                ids[i * t + j] = s.InputIds[j];
                attention[i * t + j] = 1;
                labels[i * t + j] = s.Labels[j];
            }
        }
        return new SftBatch
        {
            BatchSize = b, SequenceLength = t, InputIds = ids, AttentionMask = attention, Labels = labels,
            MaxTiles = 0, TileSize = TileSize, PixelValues = [], TileMask = [],
        };
    }

    /// <summary>(B, N, 3, M, M) pixels and (B, N) tile mask for samples' processed images (shared with the DPO collator).</summary>
    internal static (float[] Pixels, byte[] TileMask, int MaxTiles) PadImages(IReadOnlyList<(ProcessedImages? Images, int ImageCount)> samples, int tileSize)
    {
        var present = new List<ProcessedImages>();
        for (int i = 0; i < samples.Count; i++)
        {
            var (images, count) = samples[i];
            if (images is null)
            {
                if (count > 0) throw new ArgumentException($"sample {i} has {count} image(s) but was encoded without pixels (EncodingOptions.LoadPixels = false)");
                present.Add(new ProcessedImages([], 0, tileSize, [], []));
                continue;
            }
            if (images.TileSize != tileSize && images.TileCount > 0)
                throw new ArgumentException($"sample {i} has {images.TileSize}-pixel tiles, the collator expects {tileSize}");
            present.Add(images.TileCount == 0 ? new ProcessedImages([], 0, tileSize, [], []) : images);
        }
        var batch = ProcessedImageBatch.Pad(present);
        var mask = batch.TileMask.Select(m => m ? (byte)1 : (byte)0).ToArray();
        return (batch.PixelValues, mask, batch.MaxTiles);
    }
}
