using System.Globalization;
using System.Text.Json;

namespace VlmTune.Checkpoints.SmolVlm;

/// <summary>
/// Typed getters over one JSON object of a config file. An absent key yields the caller's default; a present key of
/// the wrong type throws <see cref="ConfigException"/> naming file and JSON path. Integers must be written without a
/// fraction or exponent (576, not 576.0 or "576").
/// </summary>
internal readonly struct ConfigJsonReader(JsonElement obj, string file, string path)
{
    public string File => file;
    public string Path => path;

    public string At(string key) => $"{path}.{key}";

    public bool Has(string key) => obj.TryGetProperty(key, out _);

    public bool TryGet(string key, out JsonElement value) => obj.TryGetProperty(key, out value);

    public int Int(string key, int fallback) => NullableInt(key, fallback, allowNull: false) ?? fallback;

    /// <summary>An optional integer; JSON null and an absent key both give <paramref name="fallback"/>.</summary>
    public int? NullableInt(string key, int? fallback, bool allowNull = true)
    {
        if (!obj.TryGetProperty(key, out var v)) return fallback;
        if (v.ValueKind == JsonValueKind.Null && allowNull) return fallback;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i) || RawHasFraction(v))
            throw Wrong(key, "an integer", v);
        return i;
    }

    public double Double(string key, double fallback)
    {
        if (!obj.TryGetProperty(key, out var v)) return fallback;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
            throw Wrong(key, "a number", v);
        return d;
    }

    public bool Bool(string key, bool fallback)
    {
        if (!obj.TryGetProperty(key, out var v)) return fallback;
        if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            throw Wrong(key, "true or false", v);
        return v.GetBoolean();
    }

    public string String(string key, string fallback) => NullableString(key, fallback, allowNull: false) ?? fallback;

    public string? NullableString(string key, string? fallback, bool allowNull = true)
    {
        if (!obj.TryGetProperty(key, out var v)) return fallback;
        if (v.ValueKind == JsonValueKind.Null && allowNull) return fallback;
        if (v.ValueKind != JsonValueKind.String) throw Wrong(key, "a string", v);
        return v.GetString();
    }

    /// <summary>A nested object as another reader, or null when the key is absent or JSON null.</summary>
    public ConfigJsonReader? Object(string key)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Object) throw Wrong(key, "an object", v);
        return new ConfigJsonReader(v, file, At(key));
    }

    public ConfigException Error(string key, string detail) => new(file, At(key), detail);

    private ConfigException Wrong(string key, string expected, JsonElement v) =>
        new(file, At(key), $"expected {expected}, found {Describe(v)}");

    private static bool RawHasFraction(JsonElement v)
    {
        string raw = v.GetRawText();
        return raw.Contains('.') || raw.Contains('e') || raw.Contains('E');
    }

    private static string Describe(JsonElement v)
    {
        string raw = v.GetRawText();
        if (raw.Length > 40) raw = raw[..40] + "…";
        string kind = v.ValueKind switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.Null => "null",
            JsonValueKind.Array => "array",
            JsonValueKind.Object => "object",
            _ => v.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture),
        };
        return $"{kind} {raw}";
    }
}
