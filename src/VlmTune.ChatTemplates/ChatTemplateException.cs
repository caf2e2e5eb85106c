namespace VlmTune.ChatTemplates;

/// <summary>
/// Base type of every error raised while loading, parsing or rendering a chat template.
/// <see cref="Line"/> and <see cref="Column"/> (1-based) locate the error in the template source when known.
/// </summary>
public class ChatTemplateException : Exception
{
    public ChatTemplateException(string message, int? line = null, int? column = null, Exception? inner = null)
        : base(message, inner)
    {
        Line = line;
        Column = column;
    }

    /// <summary>1-based line in the template source, or null when the error has no position.</summary>
    public int? Line { get; }

    /// <summary>1-based column in the template source, or null when the error has no position.</summary>
    public int? Column { get; }
}
