namespace VlmTune.ChatTemplates.Jinja;

/// <summary>The object made by <c>namespace(a=1)</c>: the one thing a template may mutate across loop scopes.</summary>
internal sealed class Namespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}
