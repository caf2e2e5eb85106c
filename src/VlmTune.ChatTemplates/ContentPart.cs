namespace VlmTune.ChatTemplates;

/// <summary>
/// One item of a message's content list, as TRL / Hugging Face processors pass it: <c>{"type": "text", "text": ...}</c>
/// or <c>{"type": "image"}</c>. <see cref="Extra"/> adds further keys (e.g. "image_url") that some templates test for.
/// </summary>
public sealed record ContentPart(string Type, string? Text = null)
{
    public IReadOnlyDictionary<string, object?>? Extra { get; init; }

    public static ContentPart FromText(string text) => new("text", text);

    public static ContentPart Image() => new("image");

    /// <summary>The plain dictionary the template sees ("type" first, then "text" when set, then <see cref="Extra"/>).</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> ToDictionary()
    {
        var pairs = new List<KeyValuePair<string, object?>> { new("type", Type) };
        if (Text is not null) pairs.Add(new("text", Text));
        if (Extra is not null) pairs.AddRange(Extra);
        return pairs;
    }
}
