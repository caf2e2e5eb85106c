using VlmTune.Data.Encoding;

namespace VlmTune.Data.Collation;

/// <summary>Pads encoded pairs into a <see cref="DpoBatch"/> (layout in its summary).</summary>
public sealed class DpoCollator
{
    private readonly ImageTokenIds _tokenIds;

    public DpoCollator(SmolVlmProcessor processor)
    {
        ArgumentNullException.ThrowIfNull(processor);
        PadId = processor.PadId;
        TileSize = processor.ImageConfig.MaxImageSize;
        _tokenIds = processor.TokenIds;
    }

    public int PadId { get; }
    public int TileSize { get; }

    public DpoBatch Collate(IReadOnlyList<EncodedPair> pairs)
    {
        var text = CollateText(pairs);
        var (pixels, tileMask, maxTiles) = SftCollator.PadImages(pairs.Select(p => (p.Images, p.ImageRows.Length)).ToList(), TileSize);
        return text with { MaxTiles = maxTiles, PixelValues = pixels, TileMask = tileMask };
    }

    /// <summary>The text part only (no pixel buffer, <see cref="DpoBatch.MaxTiles"/> 0), for the streamed loader.</summary>
    public DpoBatch CollateText(IReadOnlyList<EncodedPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0) throw new ArgumentException("a batch needs at least one pair", nameof(pairs));
        int b = pairs.Count, t = pairs.Max(p => p.Length);
        var ids = new long[2 * b * t];
        var attention = new long[2 * b * t];
        var labels = new long[2 * b * t];
        var completion = new long[2 * b * t];
        Array.Fill(ids, PadId);
        Array.Fill(labels, LabelMask.IgnoreIndex);
        for (int i = 0; i < b; i++)
        {
            Fill(i, pairs[i].PromptIds, pairs[i].ChosenIds);
            Fill(b + i, pairs[i].PromptIds, pairs[i].RejectedIds);
        }
        return new DpoBatch
        {
            PairCount = b, SequenceLength = t, InputIds = ids, AttentionMask = attention, Labels = labels,
            CompletionMask = completion, PromptLengths = pairs.Select(p => p.PromptIds.Length).ToArray(),
            MaxTiles = 0, TileSize = TileSize, PixelValues = [], TileMask = [],
        };

        void Fill(int row, int[] prompt, int[] answer)
        {
            int at = row * t;
            for (int j = 0; j < prompt.Length; j++, at++)
            {
                ids[at] = prompt[j];
                attention[at] = 1;
            }
            for (int j = 0; j < answer.Length; j++, at++)
            {
                ids[at] = answer[j];
                attention[at] = 1;
                completion[at] = 1;
                labels[at] = _tokenIds.IsImageRelated(answer[j]) ? LabelMask.IgnoreIndex : answer[j];
            }
        }
    }
}
