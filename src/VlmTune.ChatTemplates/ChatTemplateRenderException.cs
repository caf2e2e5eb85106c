namespace VlmTune.ChatTemplates;

/// <summary>
/// Rendering failed inside the template engine: an undefined attribute was used, a type error (e.g. str + int),
/// an unsafe method call, ... The message starts with the template position.
/// </summary>
public sealed class ChatTemplateRenderException : ChatTemplateException
{
    public ChatTemplateRenderException(string detail, int? line, int? column)
        : base(line is null ? $"chat template error: {detail}" : $"chat template error at line {line}, column {column}: {detail}", line, column)
    {
        Detail = detail;
    }

    /// <summary>The error without the position prefix (close to the text Python's jinja2 would give).</summary>
    public string Detail { get; }
}
