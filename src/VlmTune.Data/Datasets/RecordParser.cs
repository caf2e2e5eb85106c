using System.Text.Json;
using VlmTune.ChatTemplates;

namespace VlmTune.Data.Datasets;

/// <summary>
/// Turns one JSON record into an <see cref="SftExample"/> or <see cref="PreferenceExample"/>, checking every field
/// (rules in datasets.md). Every error is a <see cref="DatasetRecordException"/> naming the field path.
/// </summary>
internal sealed class RecordParser(RecordSource source, string datasetRoot, DatasetOptions options)
{
    private const string ImageMarker = "<image>";

    /// <param name="images">Images already taken from the record (parquet's embedded bytes); null: read "images".</param>
    public SftExample ParseSft(JsonElement root, List<ImageSource>? images = null)
    {
        RequireObject(root);
        images ??= ParseImages(root);
        List<ChatMessage> messages;
        int supervisedFrom;
        if (root.TryGetProperty("messages", out var m))
        {
            messages = ParseMessages(m, "messages", defaultRole: null);
            supervisedFrom = 0;
        }
        else if (root.TryGetProperty("prompt", out var p) && root.TryGetProperty("completion", out var c))
        {
            var prompt = ParseMessages(p, "prompt", defaultRole: "user");
            var completion = ParseMessages(c, "completion", defaultRole: "assistant");
            messages = [.. prompt, .. completion];
            supervisedFrom = prompt.Count;
        }
        else
        {
            string has = string.Join(", ", root.EnumerateObject().Select(e => $"\"{e.Name}\""));
            throw Error(null, $"expected \"messages\", or \"prompt\" and \"completion\" (the record has {(has.Length == 0 ? "no fields" : has)})");
        }
        if (!messages.Skip(supervisedFrom).Any(x => x.Role == "assistant"))
            throw Error(supervisedFrom == 0 ? "messages" : "completion", "no assistant message: nothing to train on");
        messages = PlaceImages(messages, images.Count, root.TryGetProperty("messages", out _) ? "messages" : "prompt");
        return new SftExample(source, messages, images, supervisedFrom);
    }

    public PreferenceExample ParsePreference(JsonElement root, List<ImageSource>? images = null)
    {
        RequireObject(root);
        images ??= ParseImages(root);
        var prompt = ParseMessages(Require(root, "prompt"), "prompt", defaultRole: "user");
        var chosen = ParseMessages(Require(root, "chosen"), "chosen", defaultRole: "assistant");
        var rejected = ParseMessages(Require(root, "rejected"), "rejected", defaultRole: "assistant");
        foreach (var (side, list) in new[] { ("chosen", chosen), ("rejected", rejected) })
        {
            if (ImagePartCount(list) > 0) throw Error(side, "images belong in the prompt; a completion cannot contain an image");
            if (!list.Any(x => x.Role == "assistant")) throw Error(side, "no assistant message");
        }
        prompt = PlaceImages(prompt, images.Count, "prompt");
        return new PreferenceExample(source, prompt, chosen, rejected, images);
    }

    private List<ImageSource> ParseImages(JsonElement root)
    {
        var list = new List<ImageSource>();
        if (!root.TryGetProperty("images", out var images) || images.ValueKind == JsonValueKind.Null) return list;
        if (images.ValueKind != JsonValueKind.Array) throw Error("images", $"expected a list of image paths, got {Kind(images)}");
        int i = 0;
        foreach (var item in images.EnumerateArray())
        {
            string path = $"images[{i++}]";
            if (item.ValueKind != JsonValueKind.String) throw Error(path, $"expected a path or data URI string, got {Kind(item)}");
            list.Add(ResolveImage(item.GetString()!, path));
        }
        return list;
    }

    internal ImageSource ResolveImage(string value, string field)
    {
        if (value.StartsWith("data:", StringComparison.Ordinal))
        {
            int comma = value.IndexOf(',', StringComparison.Ordinal);
            string header = comma < 0 ? value : value[..comma];
            if (comma < 0 || !header.StartsWith("data:image/", StringComparison.Ordinal) || !header.EndsWith(";base64", StringComparison.Ordinal))
                throw Error(field, "a data URI must look like data:image/png;base64,<payload>");
            return ImageSource.FromDataUri(source, field, value);
        }
        if (value.Length == 0) throw Error(field, "empty image path");
        if (value.Contains("://", StringComparison.Ordinal))
            throw Error(field, $"\"{value}\": URLs are not fetched; download the image and use a path relative to the JSONL file");
        string full = Path.GetFullPath(Path.Combine(datasetRoot, value));
        // Symbolic links are resolved first: a link inside the folder that points outside it is outside.
        string real = RealPath.Resolve(full), realRoot = RealPath.Resolve(datasetRoot);
        string relative = Path.GetRelativePath(realRoot, real);
        bool outside = relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            || Path.IsPathRooted(relative);
        if (outside && !options.AllowOutsideRoot)
            throw Error(field, $"\"{value}\" points outside the dataset folder {datasetRoot}" + (real != full ? $" (through a symbolic link, to {real})" : "") +
                               "; set data.allow_outside_root: true in the recipe (--allow-outside-root for inspect dataset) to permit it");
        if (!File.Exists(full)) throw Error(field, $"image file not found: {full}");
        return ImageSource.FromFile(source, field, full);
    }

    private List<ChatMessage> ParseMessages(JsonElement value, string field, string? defaultRole)
    {
        if (value.ValueKind == JsonValueKind.String && defaultRole is not null)
            return [new ChatMessage(defaultRole, SplitText(value.GetString()!))];
        if (value.ValueKind != JsonValueKind.Array)
            throw Error(field, defaultRole is null ? $"expected a list of messages, got {Kind(value)}" : $"expected a string or a list of messages, got {Kind(value)}");
        var messages = new List<ChatMessage>();
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            string path = $"{field}[{i++}]";
            if (item.ValueKind != JsonValueKind.Object) throw Error(path, $"expected a message object, got {Kind(item)}");
            var role = Require(item, "role", path);
            if (role.ValueKind != JsonValueKind.String || role.GetString()!.Length == 0)
                throw Error(path + ".role", $"expected a non-empty string, got {Kind(role)}");
            messages.Add(new ChatMessage(role.GetString()!, ParseContent(Require(item, "content", path), path + ".content")));
        }
        if (messages.Count == 0) throw Error(field, "the message list is empty");
        return messages;
    }

    private List<ContentPart> ParseContent(JsonElement content, string path)
    {
        if (content.ValueKind == JsonValueKind.String) return SplitText(content.GetString()!);
        if (content.ValueKind != JsonValueKind.Array) throw Error(path, $"expected a string or a list of content parts, got {Kind(content)}");
        var parts = new List<ContentPart>();
        int i = 0;
        foreach (var part in content.EnumerateArray())
        {
            string partPath = $"{path}[{i++}]";
            if (part.ValueKind != JsonValueKind.Object) throw Error(partPath, $"expected a content part object, got {Kind(part)}");
            var type = Require(part, "type", partPath);
            if (type.ValueKind != JsonValueKind.String) throw Error(partPath + ".type", $"expected a string, got {Kind(type)}");
            switch (type.GetString())
            {
                case "text":
                    var text = Require(part, "text", partPath);
                    if (text.ValueKind != JsonValueKind.String) throw Error(partPath + ".text", $"expected a string, got {Kind(text)}");
                    if (text.GetString()!.Contains(ImageMarker, StringComparison.Ordinal))
                        throw Error(partPath + ".text", "contains the literal <image>; use a {\"type\": \"image\"} part instead");
                    parts.Add(ContentPart.FromText(text.GetString()!));
                    break;
                case "image":
                    parts.Add(ContentPart.Image());
                    break;
                default:
                    throw Error(partPath + ".type", $"unknown content type \"{type.GetString()}\" (expected \"text\" or \"image\")");
            }
        }
        return parts;
    }

    /// <summary>String content: each literal &lt;image&gt; becomes an image part (LLaMA-Factory / ShareGPT style).</summary>
    private static List<ContentPart> SplitText(string text)
    {
        var parts = new List<ContentPart>();
        string[] pieces = text.Split(ImageMarker);
        for (int i = 0; i < pieces.Length; i++)
        {
            if (i > 0) parts.Add(ContentPart.Image());
            if (pieces[i].Length > 0) parts.Add(ContentPart.FromText(pieces[i]));
        }
        if (parts.Count == 0) parts.Add(ContentPart.FromText(""));
        return parts;
    }

    /// <summary>
    /// Matches image parts with images. No image part at all but images given: the images go first in the first user
    /// message (TRL's prepare_multimodal_messages). Otherwise the counts must agree.
    /// </summary>
    private List<ChatMessage> PlaceImages(List<ChatMessage> messages, int imageCount, string field)
    {
        int parts = ImagePartCount(messages);
        if (parts == imageCount) return messages;
        if (parts == 0)
        {
            int user = messages.FindIndex(x => x.Role == "user");
            if (user < 0) throw Error(field, $"{imageCount} image(s) given but there is no user message to put them in");
            var placed = new List<ChatMessage>(messages);
            placed[user] = new ChatMessage("user", [.. Enumerable.Repeat(ContentPart.Image(), imageCount), .. messages[user].Parts!]);
            return placed;
        }
        throw Error("images", $"{imageCount} image(s) given but {field} has {parts} image placeholder(s) " +
                              "({\"type\": \"image\"} parts or <image> in string content); they must match one to one");
    }

    private static int ImagePartCount(IEnumerable<ChatMessage> messages) =>
        messages.Sum(x => x.Parts?.Count(p => p.Type == "image") ?? 0);

    private void RequireObject(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Error(null, $"expected a JSON object, got {Kind(root)}");
    }

    private JsonElement Require(JsonElement obj, string name, string? parent = null)
    {
        if (obj.TryGetProperty(name, out var value)) return value;
        throw Error(parent ?? name, parent is null ? "missing field" : $"missing field \"{name}\"");
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString(),
    };

    private DatasetRecordException Error(string? field, string problem) => new(source, field, problem);
}
