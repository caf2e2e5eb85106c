using System.Text.Json;
using VlmTune.ChatTemplates.Jinja;

namespace VlmTune.ChatTemplates;

/// <summary>
/// A Hugging Face chat template: turns a conversation into the prompt text the model was trained on, exactly as
/// <c>apply_chat_template(messages, tokenize=False, add_generation_prompt=...)</c> does. The template sees
/// <c>messages</c>, <c>add_generation_prompt</c>, <c>bos_token</c> / <c>eos_token</c> (when known) and any extra
/// variables.
/// </summary>
public sealed class ChatTemplate
{
    private readonly JinjaTemplate _template;

    public ChatTemplate(string source, string? bosToken = null, string? eosToken = null)
    {
        Source = source;
        BosToken = bosToken;
        EosToken = eosToken;
        _template = JinjaTemplate.Parse(source);
    }

    private ChatTemplate(ChatTemplate other, JinjaTemplate template)
    {
        Source = other.Source;
        BosToken = other.BosToken;
        EosToken = other.EosToken;
        _template = template;
    }

    /// <summary>A copy whose strftime_now reads <paramref name="clock"/> (for reproducible renders).</summary>
    public ChatTemplate WithClock(Func<DateTime> clock) => new(this, _template.WithClock(clock));

    /// <summary>The template text.</summary>
    public string Source { get; }

    public string? BosToken { get; }

    public string? EosToken { get; }

    /// <summary>
    /// Reads the template of a checkpoint folder, in transformers' order of preference: chat_template.jinja,
    /// chat_template.json ("chat_template" key), then tokenizer_config.json's "chat_template" (a string, or a list of
    /// {name, template} from which "default" is taken). bos_token / eos_token come from tokenizer_config.json when present.
    /// </summary>
    public static ChatTemplate FromCheckpoint(string dir) => CheckpointTemplateReader.Read(dir);

    /// <summary>Renders typed messages (string content or content parts).</summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return RenderValues(messages.Select(m => (object?)m).ToList(), addGenerationPrompt, extra);
    }

    /// <summary>
    /// Renders messages given as plain values (e.g. a <see cref="JsonElement"/> array straight from a dataset, or
    /// lists of dictionaries), so fields beyond role/content such as tool_calls reach the template untouched.
    /// </summary>
    public string RenderValues(object? messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?>? extra = null)
    {
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (BosToken is not null) variables["bos_token"] = BosToken;
        if (EosToken is not null) variables["eos_token"] = EosToken;
        if (extra is not null)
            foreach (var kv in extra) variables[kv.Key] = kv.Value;
        variables["messages"] = messages;
        variables["add_generation_prompt"] = addGenerationPrompt;
        return _template.Render(variables);
    }
}
