using System.Text.Json;

namespace VlmTune.Tokenizers.Pipeline;

/// <summary>Typed access to tokenizer.json fields; every failure names the file and the JSON path.</summary>
internal readonly struct Json
{
    private readonly string _file;

    public Json(string file, JsonElement element, string path)
    {
        _file = file;
        Element = element;
        Path = path;
    }

    public JsonElement Element { get; }
    public string Path { get; }
    public bool IsNull => Element.ValueKind == JsonValueKind.Null;

    public TokenizerFormatException Error(string problem) => new(_file, Path, problem);

    /// <summary>A required member (it may hold JSON null).</summary>
    public Json Get(string name)
    {
        RequireKind(JsonValueKind.Object);
        if (!Element.TryGetProperty(name, out JsonElement value))
            throw new TokenizerFormatException(_file, $"{Path}.{name}", "missing required field");
        return new Json(_file, value, $"{Path}.{name}");
    }

    /// <summary>An optional member; absent and JSON null both give null.</summary>
    public Json? Optional(string name)
    {
        RequireKind(JsonValueKind.Object);
        if (!Element.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null) return null;
        return new Json(_file, value, $"{Path}.{name}");
    }

    public string String()
    {
        RequireKind(JsonValueKind.String);
        return Element.GetString()!;
    }

    public bool Bool()
    {
        if (Element.ValueKind is JsonValueKind.True or JsonValueKind.False) return Element.GetBoolean();
        throw Error($"expected true or false, found {Describe(Element)}");
    }

    public bool BoolOr(string name, bool fallback) => Optional(name)?.Bool() ?? fallback;

    public int Int()
    {
        if (Element.ValueKind == JsonValueKind.Number && Element.TryGetInt32(out int v)) return v;
        throw Error($"expected a 32-bit integer, found {Describe(Element)}");
    }

    public int Id()
    {
        int v = Int();
        if (v < 0) throw Error($"expected a non-negative token id, found {v}");
        return v;
    }

    public IEnumerable<Json> Items()
    {
        RequireKind(JsonValueKind.Array);
        int i = 0;
        foreach (JsonElement item in Element.EnumerateArray())
            yield return new Json(_file, item, $"{Path}[{i++}]");
    }

    public IEnumerable<(string Name, Json Value)> Members()
    {
        RequireKind(JsonValueKind.Object);
        foreach (JsonProperty p in Element.EnumerateObject())
            yield return (p.Name, new Json(_file, p.Value, $"{Path}[\"{p.Name.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"]"));
    }

    public string TypeName()
    {
        Json type = Get("type");
        return type.String();
    }

    private void RequireKind(JsonValueKind kind)
    {
        if (Element.ValueKind != kind)
            throw Error($"expected {kind.ToString().ToLowerInvariant()}, found {Describe(Element)}");
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"string \"{Truncate(e.GetString()!)}\"",
        JsonValueKind.Number => $"number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        JsonValueKind.Null => "null",
        _ => e.ValueKind.ToString().ToLowerInvariant(),
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
