using VlmTune.Data.Datasets;

namespace VlmTune.Data.Encoding;

/// <summary>
/// Turns a <see cref="PreferenceExample"/> into a shared prompt and two completions:
/// <list type="number">
/// <item>prompt text = template(prompt, add_generation_prompt = true), images expanded, tokenized once;</item>
/// <item>each completion text = template(prompt + completion) minus the prompt text (it must be a prefix), cut after
///   the last end-of-turn token, tokenized on its own (TRL tokenizes prompt and completions separately too);</item>
/// <item>the images are loaded and processed once per pair.</item>
/// </list>
/// Too long = prompt + the longer completion &gt; max length. ShrinkImages re-processes global-only; TruncateText
/// cuts both completions to fit (never the prompt, which holds the images); Drop returns null. Thread-safe.
/// </summary>
public sealed class PreferenceEncoder
{
    private readonly SmolVlmProcessor _processor;

    public PreferenceEncoder(SmolVlmProcessor processor, EncodingOptions? options = null)
    {
        _processor = processor ?? throw new ArgumentNullException(nameof(processor));
        Options = options ?? EncodingOptions.Default;
    }

    public EncodingOptions Options { get; }

    /// <summary>Encodes one pair; null when it is too long and the policy is Drop.</summary>
    public EncodedPair? Encode(PreferenceExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        if ((TextBound.TooLong([.. example.Prompt, .. example.Chosen], _processor, Options)
             ?? TextBound.TooLong([.. example.Prompt, .. example.Rejected], _processor, Options)) is { } tooLong)
            return Options.Overflow == OverflowPolicy.Drop ? null : throw TextBound.Error(example.Source, tooLong, _processor.MaxLength);
        var images = SampleImages.Load(example.Images, _processor, Options.LoadPixels);
        var pair = Build(example, images);
        int max = _processor.MaxLength;
        if (pair.Length <= max) return pair;

        if (Options.Overflow == OverflowPolicy.ShrinkImages && images.AnySplit)
        {
            pair = Build(example, images.Regrid(_processor));
            if (pair.Length <= max) return pair;
        }
        int budget = max - pair.PromptIds.Length;
        if (Options.TruncateText && budget >= 1)
            return pair with
            {
                ChosenIds = pair.ChosenIds[..Math.Min(budget, pair.ChosenIds.Length)],
                RejectedIds = pair.RejectedIds[..Math.Min(budget, pair.RejectedIds.Length)],
                Truncated = true,
            };
        if (Options.Overflow == OverflowPolicy.Drop) return null;
        throw new DatasetRecordException(example.Source, null,
            $"pair is {pair.Length} tokens (prompt {pair.PromptIds.Length}, of which {pair.PromptImageTokenCount} image; " +
            $"completions {pair.ChosenIds.Length} / {pair.RejectedIds.Length}), more than the max length {max}" +
            (pair.ShrunkImages ? " even with global-only images" : "") +
            "; raise the max length or choose an overflow policy (drop, shrink-images)");
    }

    private EncodedPair Build(PreferenceExample example, SampleImages images)
    {
        var rendered = RenderedConversation.Build(example.Prompt, example.Prompt.Count, findAssistantSpans: false,
            addGenerationPrompt: true, images, _processor, example.Source, "prompt");
        var encoded = _processor.Tokenizer.EncodeWithOffsets(rendered.Text, addSpecialTokens: false);
        var (_, imageTokens) = SftEncoder.BuildLabels(encoded.Ids, encoded.Offsets, rendered, assistantOnly: false, _processor);
        SftEncoder.CheckImageTokenCount(encoded.Ids, images, _processor, example.Source);

        // Completion texts are computed on the unexpanded render: the prompt is a prefix either way.
        string promptText = _processor.ChatTemplate.Render(example.Prompt, addGenerationPrompt: true);
        int[] chosen = Completion(example, promptText, example.Chosen, "chosen");
        int[] rejected = Completion(example, promptText, example.Rejected, "rejected");
        return new EncodedPair(example.Source, encoded.Ids, chosen, rejected, images.Pixels, images.Rows, images.Cols,
            imageTokens, images.GlobalOnly, Truncated: false);
    }

    private int[] Completion(PreferenceExample example, string promptText, IReadOnlyList<VlmTune.ChatTemplates.ChatMessage> completion, string field)
    {
        string full;
        try
        {
            full = _processor.ChatTemplate.Render([.. example.Prompt, .. completion], addGenerationPrompt: false);
        }
        catch (VlmTune.ChatTemplates.ChatTemplateException e)
        {
            throw new DatasetRecordException(example.Source, field, $"chat template failed: {e.Message}", e);
        }
        if (!full.StartsWith(promptText, StringComparison.Ordinal))
            throw new DatasetRecordException(example.Source, field,
                "the chat template does not render the prompt with its generation prompt as a prefix of prompt + completion; " +
                "cannot split the completion off");
        string text = full[promptText.Length..];
        int eos = text.LastIndexOf(_processor.EndOfTurn, StringComparison.Ordinal);
        if (eos >= 0) text = text[..(eos + _processor.EndOfTurn.Length)];
        int[] ids = _processor.Tokenizer.Encode(text, addSpecialTokens: false);
        if (ids.Length == 0) throw new DatasetRecordException(example.Source, field, "the completion is empty");
        return ids;
    }
}
