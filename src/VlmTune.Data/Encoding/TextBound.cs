using VlmTune.ChatTemplates;
using VlmTune.Data.Datasets;

namespace VlmTune.Data.Encoding;

/// <summary>
/// Refuses a record whose text alone is certainly longer than the max length before it is rendered and tokenized
/// (a 50 MB record would otherwise be tokenized in full only to be rejected). The bound is the tokenizer's
/// <see cref="Tokenizers.Tokenizer.MinTokenCount"/> over the messages' text, which the chat template renders in
/// full; images only add tokens. Not applied when text truncation may still save the record.
/// </summary>
internal static class TextBound
{
    /// <summary>The lower bound on the token count when it already exceeds the max length, else null.</summary>
    public static long? TooLong(IEnumerable<ChatMessage> messages, SmolVlmProcessor processor, EncodingOptions options)
    {
        if (options.TruncateText) return null;
        long chars = 0;
        foreach (var m in messages)
            chars += m.Text?.Length ?? m.Parts?.Sum(p => (long)(p.Text?.Length ?? 0)) ?? 0;
        long bound = processor.Tokenizer.MinTokenCount((int)Math.Min(chars, int.MaxValue));
        return bound > processor.MaxLength ? bound : null;
    }

    public static DatasetRecordException Error(RecordSource source, long bound, int max) =>
        new(source, null, $"sample is at least {bound} tokens (its text alone), more than the max length {max}; it was not tokenized. " +
                          "Shorten or split the record, or choose overflow policy drop");
}
