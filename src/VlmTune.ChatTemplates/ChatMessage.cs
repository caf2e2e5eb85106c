namespace VlmTune.ChatTemplates;

/// <summary>
/// One conversation turn: a role and either a plain string content or a list of <see cref="ContentPart"/>s.
/// The template sees <c>{"role": ..., "content": ...}</c> plus any <see cref="Extra"/> keys (e.g. "tool_calls").
/// </summary>
public sealed class ChatMessage
{
    public ChatMessage(string role, string content)
    {
        Role = role;
        Text = content;
    }

    public ChatMessage(string role, IReadOnlyList<ContentPart> parts)
    {
        Role = role;
        Parts = parts;
    }

    public string Role { get; }

    /// <summary>The content when it is a plain string; null when the content is a list of parts.</summary>
    public string? Text { get; }

    /// <summary>The content when it is a list of parts; null when the content is a plain string.</summary>
    public IReadOnlyList<ContentPart>? Parts { get; }

    public IReadOnlyDictionary<string, object?>? Extra { get; init; }

    /// <summary>The plain dictionary the template sees ("role", "content", then <see cref="Extra"/>).</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> ToDictionary()
    {
        object? content = Parts is null ? Text : Parts.Select(p => (object?)p.ToDictionary()).ToList();
        var pairs = new List<KeyValuePair<string, object?>> { new("role", Role), new("content", content) };
        if (Extra is not null) pairs.AddRange(Extra);
        return pairs;
    }
}
