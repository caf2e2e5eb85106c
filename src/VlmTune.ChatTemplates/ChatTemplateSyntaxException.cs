namespace VlmTune.ChatTemplates;

/// <summary>The template source is not valid (in the supported Jinja subset); the message names line and column.</summary>
public sealed class ChatTemplateSyntaxException : ChatTemplateException
{
    public ChatTemplateSyntaxException(string detail, int line, int column)
        : base($"chat template syntax error at line {line}, column {column}: {detail}", line, column)
    {
        Detail = detail;
    }

    /// <summary>The error without the position prefix.</summary>
    public string Detail { get; }
}
