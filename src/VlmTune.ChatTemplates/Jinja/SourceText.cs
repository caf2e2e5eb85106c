namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// The template source after jinja's newline handling (\r\n and \r become \n; with keep_trailing_newline=False one
/// trailing newline is dropped), with offset → (line, column) mapping for error messages.
/// </summary>
internal sealed class SourceText
{
    private readonly List<int> _lineStarts = new() { 0 };

    public SourceText(string raw)
    {
        string text = raw.Replace("\r\n", "\n").Replace('\r', '\n');
        if (text.EndsWith('\n')) text = text[..^1];
        Text = text;
        for (int i = 0; i < text.Length; i++)
            if (text[i] == '\n') _lineStarts.Add(i + 1);
    }

    public string Text { get; }

    /// <summary>1-based line and column of an offset.</summary>
    public (int Line, int Column) Locate(int position)
    {
        int idx = _lineStarts.BinarySearch(position);
        if (idx < 0) idx = ~idx - 1;
        return (idx + 1, position - _lineStarts[idx] + 1);
    }

    public ChatTemplateSyntaxException Error(string detail, int position)
    {
        var (line, column) = Locate(position);
        return new ChatTemplateSyntaxException(detail, line, column);
    }
}
