namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Internal runtime error raised by the value model, filters and tests. The interpreter attaches the position of
/// the innermost expression being evaluated and turns it into a public <see cref="ChatTemplateRenderException"/>.
/// </summary>
internal sealed class TemplateError : Exception
{
    public TemplateError(string detail) : base(detail)
    {
    }

    public int? Position { get; set; }

    /// <summary>True when the template called raise_exception(message): the message is surfaced verbatim.</summary>
    public bool Raised { get; init; }
}
