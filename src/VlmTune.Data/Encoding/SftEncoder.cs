using VlmTune.Data.Datasets;

namespace VlmTune.Data.Encoding;

/// <summary>
/// Turns an <see cref="SftExample"/> into token ids and labels:
/// <list type="number">
/// <item>load the images and tile them (rows/cols per image);</item>
/// <item>render the conversation with the chat template and locate the supervised assistant turns
///   (<see cref="RenderedConversation"/>: prefix-by-prefix rendering, documented in datasets.md);</item>
/// <item>replace each &lt;image&gt; with its expansion (spec §5.2) and tokenize the result with offsets
///   (add_special_tokens = false: the template already starts with &lt;|im_start|&gt;);</item>
/// <item>labels: −100 on every image-related token (by id, and every token inside an image expansion); with
///   AssistantOnly, −100 on every token whose first character lies outside an assistant span; else the id.</item>
/// </list>
/// Over-long samples follow <see cref="EncodingOptions.Overflow"/> and <see cref="EncodingOptions.TruncateText"/>.
/// Thread-safe (no mutable state).
/// </summary>
public sealed class SftEncoder
{
    private readonly SmolVlmProcessor _processor;

    public SftEncoder(SmolVlmProcessor processor, EncodingOptions? options = null)
    {
        _processor = processor ?? throw new ArgumentNullException(nameof(processor));
        Options = options ?? EncodingOptions.Default;
    }

    public EncodingOptions Options { get; }

    /// <summary>Encodes one sample; null when it is too long and the policy is Drop.</summary>
    /// <exception cref="DatasetRecordException">An image cannot be loaded, the template fails, or the sample is too long under Error.</exception>
    public EncodedSample? Encode(SftExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        if (TextBound.TooLong(example.Messages, _processor, Options) is { } tooLong)
            return Options.Overflow == OverflowPolicy.Drop ? null : throw TextBound.Error(example.Source, tooLong, _processor.MaxLength);
        var images = SampleImages.Load(example.Images, _processor, Options.LoadPixels);
        var sample = Build(example, images);
        int max = _processor.MaxLength;
        if (sample.Length <= max) return sample;

        if (Options.Overflow == OverflowPolicy.ShrinkImages && images.AnySplit)
        {
            sample = Build(example, images.Regrid(_processor));
            if (sample.Length <= max) return sample;
        }
        if (Options.TruncateText)
        {
            int lastImage = Array.FindLastIndex(sample.InputIds, id => _processor.TokenIds.IsImageRelated(id));
            if (lastImage < max)
                return sample with { InputIds = sample.InputIds[..max], Labels = sample.Labels[..max], Truncated = true };
        }
        if (Options.Overflow == OverflowPolicy.Drop) return null;
        throw TooLong(example.Source, sample, max, Options);
    }

    internal static DatasetRecordException TooLong(RecordSource source, EncodedSample sample, int max, EncodingOptions options) =>
        new(source, null,
            $"sample is {sample.Length} tokens ({sample.TextTokenCount} text + {sample.ImageTokenCount} image), more than the max length {max}" +
            (sample.ShrunkImages ? " even with global-only images" : "") +
            "; raise the max length, lower size.longest_edge, or choose an overflow policy (drop, shrink-images)" +
            (options.TruncateText ? "" : " or allow text truncation after the last image"));

    private EncodedSample Build(SftExample example, SampleImages images)
    {
        var rendered = RenderedConversation.Build(example.Messages, example.SupervisedFrom, Options.AssistantOnly,
            addGenerationPrompt: false, images, _processor, example.Source, example.SupervisedFrom == 0 ? "messages" : "completion");
        var encoded = _processor.Tokenizer.EncodeWithOffsets(rendered.Text, addSpecialTokens: false);
        var (labels, imageTokens) = BuildLabels(encoded.Ids, encoded.Offsets, rendered, Options.AssistantOnly, _processor);
        CheckImageTokenCount(encoded.Ids, images, example.Source);
        return new EncodedSample(example.Source, encoded.Ids, labels, images.Pixels, images.Rows, images.Cols,
            imageTokens, images.GlobalOnly, Truncated: false);
    }

    /// <summary>Labels for <paramref name="ids"/> and the number of image-related tokens (see the type summary).</summary>
    internal static (int[] Labels, int ImageTokens) BuildLabels(int[] ids, (int Start, int End)[] offsets,
        RenderedConversation rendered, bool assistantOnly, SmolVlmProcessor processor)
    {
        var labels = new int[ids.Length];
        int imageTokens = 0;
        for (int t = 0; t < ids.Length; t++)
        {
            var (start, end) = offsets[t];
            bool image = processor.TokenIds.IsImageRelated(ids[t]) || Overlaps(rendered.ImageSpans, start, end);
            if (image)
            {
                labels[t] = LabelMask.IgnoreIndex;
                imageTokens++;
            }
            else if (!assistantOnly || StartsInside(rendered.SupervisedSpans, start)) labels[t] = ids[t];
            else labels[t] = LabelMask.IgnoreIndex;
        }
        return (labels, imageTokens);
    }

    /// <summary>Invariant: the &lt;image&gt; tokens equal the image-feature rows Σ (rows·cols + 1)·image_seq_len.</summary>
    internal static void CheckImageTokenCount(int[] ids, SampleImages images, SmolVlmProcessor processor, RecordSource source)
    {
        int expected = 0;
        for (int i = 0; i < images.Rows.Length; i++) expected += processor.Expander.ImageTokenCount(images.Rows[i], images.Cols[i]);
        int actual = ids.Count(id => id == processor.TokenIds.Image);
        if (actual != expected)
            throw new DatasetRecordException(source, null,
                $"the text tokenizes to {actual} <image> tokens but the images need {expected} (image_seq_len {processor.Expander.ImageSeqLen}); " +
                "does the text contain image tokens?");
    }

    private void CheckImageTokenCount(int[] ids, SampleImages images, RecordSource source) =>
        CheckImageTokenCount(ids, images, _processor, source);

    private static bool Overlaps(IReadOnlyList<(int Start, int End)> spans, int start, int end)
    {
        foreach (var s in spans)
            if (start < s.End && end > s.Start) return true;
        return false;
    }

    private static bool StartsInside(IReadOnlyList<(int Start, int End)> spans, int start)
    {
        foreach (var s in spans)
            if (start >= s.Start && start < s.End) return true;
        return false;
    }
}
