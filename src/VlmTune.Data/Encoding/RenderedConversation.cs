using System.Text;
using VlmTune.ChatTemplates;
using VlmTune.Data.Datasets;

namespace VlmTune.Data.Encoding;

/// <summary>
/// A conversation rendered with the chat template, its &lt;image&gt; placeholders expanded, and two kinds of character
/// spans in the expanded text: supervised spans (assistant turns) and image spans (one per expanded image).
///
/// Finding assistant turns (the "prefix diff" method): for each assistant message i, render messages[0..i) with
/// add_generation_prompt = true (ends with e.g. "Assistant:") and messages[0..i] without; the turn is the text between
/// the two, cut right after the last end-of-turn token (&lt;end_of_utterance&gt;) inside it, so the trailing "\n" is
/// not supervised but the end-of-turn token is. Every partial render must be a prefix of the full render; a template
/// for which that fails is reported (it cannot be masked this way; use AssistantOnly = false).
/// </summary>
internal sealed class RenderedConversation
{
    private RenderedConversation(string text, List<(int Start, int End)> supervised, List<(int Start, int End)> images)
    {
        Text = text;
        SupervisedSpans = supervised;
        ImageSpans = images;
    }

    public string Text { get; }
    public IReadOnlyList<(int Start, int End)> SupervisedSpans { get; }
    public IReadOnlyList<(int Start, int End)> ImageSpans { get; }

    /// <summary>Renders <paramref name="messages"/>; assistant messages from <paramref name="supervisedFrom"/> on get spans.</summary>
    public static RenderedConversation Build(IReadOnlyList<ChatMessage> messages, int supervisedFrom, bool findAssistantSpans,
        bool addGenerationPrompt, SampleImages images, SmolVlmProcessor processor, RecordSource source, string field)
    {
        string full = Render(processor, messages.Count, messages, addGenerationPrompt, source, field);
        var spans = new List<(int, int)>();
        if (findAssistantSpans)
        {
            for (int i = supervisedFrom; i < messages.Count; i++)
            {
                if (messages[i].Role != "assistant") continue;
                string before = Render(processor, i, messages, true, source, field);
                string upto = Render(processor, i + 1, messages, false, source, field);
                if (!upto.StartsWith(before, StringComparison.Ordinal) || !full.StartsWith(upto, StringComparison.Ordinal))
                    throw new DatasetRecordException(source, $"{field}[{i}]",
                        "the chat template does not render conversations prefix by prefix, so assistant turns cannot be located; " +
                        "train with assistantOnly = false");
                int end = upto.Length;
                int eos = upto.LastIndexOf(processor.EndOfTurn, StringComparison.Ordinal);
                if (eos >= before.Length) end = eos + processor.EndOfTurn.Length;
                spans.Add((before.Length, end));
            }
        }
        return Expand(full, spans, images, processor, source);
    }

    /// <summary>Expands the i-th &lt;image&gt; with image i's tile string and maps the spans into the expanded text.</summary>
    public static RenderedConversation Expand(string text, List<(int Start, int End)> spans, SampleImages images,
        SmolVlmProcessor processor, RecordSource source)
    {
        const string marker = "<image>";
        var placeholders = new List<int>();
        for (int at = text.IndexOf(marker, StringComparison.Ordinal); at >= 0; at = text.IndexOf(marker, at + marker.Length, StringComparison.Ordinal))
            placeholders.Add(at);
        if (placeholders.Count != images.Rows.Length)
            throw new DatasetRecordException(source, "images",
                $"the rendered text has {placeholders.Count} <image> placeholder(s) but the record has {images.Rows.Length} image(s)");

        var sb = new StringBuilder(text.Length + placeholders.Count * 64);
        var imageSpans = new List<(int, int)>();
        var growth = new int[placeholders.Count];   // expanded length − marker length, per placeholder
        int start = 0;
        for (int i = 0; i < placeholders.Count; i++)
        {
            sb.Append(text, start, placeholders[i] - start);
            int imageStart = sb.Length;
            sb.Append(processor.Expander.ExpandImage(images.Rows[i], images.Cols[i]));
            imageSpans.Add((imageStart, sb.Length));
            growth[i] = sb.Length - imageStart - marker.Length;
            start = placeholders[i] + marker.Length;
        }
        sb.Append(text, start, text.Length - start);

        int Map(int offset)
        {
            int shift = 0;
            for (int i = 0; i < placeholders.Count; i++)
            {
                if (placeholders[i] + marker.Length <= offset) shift += growth[i];
                else if (placeholders[i] < offset)
                    throw new DatasetRecordException(source, null, "an assistant turn boundary falls inside an <image> placeholder");
            }
            return offset + shift;
        }
        var mapped = spans.Select(s => (Map(s.Start), Map(s.End))).ToList();
        return new RenderedConversation(sb.ToString(), mapped, imageSpans);
    }

    private static string Render(SmolVlmProcessor processor, int count, IReadOnlyList<ChatMessage> messages,
        bool addGenerationPrompt, RecordSource source, string field)
    {
        try
        {
            return processor.ChatTemplate.Render(messages.Take(count).ToList(), addGenerationPrompt);
        }
        catch (ChatTemplateException e)
        {
            throw new DatasetRecordException(source, field, $"chat template failed: {e.Message}", e);
        }
    }
}
