using System.Text.Json;

namespace VlmTune.ChatTemplates;

/// <summary>Finds and reads the chat template (and bos/eos tokens) of a Hugging Face checkpoint folder.</summary>
internal static class CheckpointTemplateReader
{
    private const string JinjaFile = "chat_template.jinja";
    private const string JsonFile = "chat_template.json";
    private const string TokenizerConfigFile = "tokenizer_config.json";

    public static ChatTemplate Read(string dir)
    {
        if (!Directory.Exists(dir)) throw new ChatTemplateLoadException($"checkpoint folder '{dir}' does not exist");
        string jinjaPath = Path.Combine(dir, JinjaFile);
        string jsonPath = Path.Combine(dir, JsonFile);
        string configPath = Path.Combine(dir, TokenizerConfigFile);

        JsonElement? config = File.Exists(configPath) ? ParseJson(configPath) : null;
        string? bos = config is { } c1 ? TokenText(c1, "bos_token", configPath) : null;
        string? eos = config is { } c2 ? TokenText(c2, "eos_token", configPath) : null;

        string? source = null;
        if (File.Exists(jinjaPath)) source = File.ReadAllText(jinjaPath);
        else if (File.Exists(jsonPath))
        {
            var root = ParseJson(jsonPath);
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("chat_template", out var t) || t.ValueKind != JsonValueKind.String)
                throw new ChatTemplateLoadException($"{jsonPath}: expected an object with a string field \"chat_template\"");
            source = t.GetString();
        }
        else if (config is { } cfg && cfg.ValueKind == JsonValueKind.Object && cfg.TryGetProperty("chat_template", out var field))
            source = FromTokenizerConfig(field, configPath);

        if (source is null)
            throw new ChatTemplateLoadException(
                $"no chat template found in '{dir}': looked for {JinjaFile}, {JsonFile} (\"chat_template\") and " +
                $"{TokenizerConfigFile} (\"chat_template\"){(config is null ? $"; {TokenizerConfigFile} does not exist" : "")}");
        return new ChatTemplate(source, bos, eos);
    }

    private static string FromTokenizerConfig(JsonElement field, string path)
    {
        if (field.ValueKind == JsonValueKind.String) return field.GetString()!;
        if (field.ValueKind != JsonValueKind.Array)
            throw new ChatTemplateLoadException($"{path}: \"chat_template\" must be a string or a list of {{name, template}}, got {field.ValueKind}");
        var names = new List<string>();
        int index = 0;
        foreach (var item in field.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || !item.TryGetProperty("template", out var template) || template.ValueKind != JsonValueKind.String)
                throw new ChatTemplateLoadException($"{path}: \"chat_template\"[{index}] must be an object with string fields \"name\" and \"template\"");
            if (name.GetString() == "default") return template.GetString()!;
            names.Add(name.GetString()!);
            index++;
        }
        throw new ChatTemplateLoadException($"{path}: \"chat_template\" lists no template named \"default\" (found: {string.Join(", ", names)})");
    }

    /// <summary>A special token given either as a string or as an AddedToken object {"content": ...}.</summary>
    private static string? TokenText(JsonElement config, string key, string path)
    {
        if (config.ValueKind != JsonValueKind.Object || !config.TryGetProperty(key, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Null => null,
            JsonValueKind.Object when v.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String => content.GetString(),
            _ => throw new ChatTemplateLoadException($"{path}: \"{key}\" must be a string, null or an object with \"content\""),
        };
    }

    private static JsonElement ParseJson(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ChatTemplateLoadException($"{path}: invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}", e);
        }
    }
}
