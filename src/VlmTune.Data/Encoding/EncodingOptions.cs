namespace VlmTune.Data.Encoding;

/// <summary>How samples become token ids and labels.</summary>
public sealed record EncodingOptions
{
    /// <summary>
    /// True (default): only assistant turns are supervised (from the end of the generation prompt to the turn's
    /// end-of-turn token inclusive). False: every non-image, non-pad token is supervised.
    /// </summary>
    public bool AssistantOnly { get; init; } = true;

    public OverflowPolicy Overflow { get; init; } = OverflowPolicy.Error;

    /// <summary>
    /// When a sample is still too long (after ShrinkImages, if chosen), cut the text at the maximum length — allowed
    /// only when the cut lies after the last image token. Off by default: truncation must be asked for.
    /// </summary>
    public bool TruncateText { get; init; }

    /// <summary>
    /// True (default): images are decoded and processed into pixel values. False: only the image headers are read
    /// (size → tile grid), no pixel is decoded — enough for exact token counts and labels (the planning pass of
    /// training, `inspect dataset`); a file whose compressed pixel data is damaged is found when it is decoded.
    /// </summary>
    public bool LoadPixels { get; init; } = true;

    public static EncodingOptions Default { get; } = new();
}
