namespace VlmTune.ChatTemplates.Tests;

/// <summary>ChatTemplate.FromCheckpoint: where the template is looked for, bos/eos tokens, and errors naming the files.</summary>
public sealed class ChatTemplateFromCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vlmtune-chat-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string name, string text) => File.WriteAllText(Path.Combine(_dir, name), text);

    private static readonly ChatMessage[] Hello = [new("user", [ContentPart.FromText("hello")])];

    [Fact]
    public void Reads_chat_template_json()
    {
        Write("chat_template.json", System.Text.Json.JsonSerializer.Serialize(new { chat_template = ChatTemplateTests.SmolVlm }));
        var t = ChatTemplate.FromCheckpoint(_dir);
        Assert.Equal(ChatTemplateTests.SmolVlm, t.Source);
        Assert.Equal("<|im_start|>User: hello<end_of_utterance>\nAssistant:", t.Render(Hello, true));
    }

    [Fact]
    public void Prefers_chat_template_jinja_and_reads_tokens_from_tokenizer_config()
    {
        Write("chat_template.jinja", "{{ bos_token }}{{ messages[0].content[0].text }}{{ eos_token }}\n");
        Write("chat_template.json", "{\"chat_template\": \"json\"}");
        Write("tokenizer_config.json", "{\"chat_template\": \"config\", \"bos_token\": {\"content\": \"<s>\", \"lstrip\": false}, \"eos_token\": \"</s>\"}");
        Assert.Equal("<s>hello</s>", ChatTemplate.FromCheckpoint(_dir).Render(Hello, false));
    }

    [Fact]
    public void Falls_back_to_tokenizer_config_string_or_named_list()
    {
        Write("tokenizer_config.json", "{\"chat_template\": \"plain {{ messages | length }}\"}");
        Assert.Equal("plain 1", ChatTemplate.FromCheckpoint(_dir).Render(Hello, false));
        Write("tokenizer_config.json", "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"tools\"}, {\"name\": \"default\", \"template\": \"default!\"}]}");
        Assert.Equal("default!", ChatTemplate.FromCheckpoint(_dir).Render(Hello, false));
    }

    [Fact]
    public void Missing_template_names_every_file_looked_at()
    {
        Write("tokenizer_config.json", "{\"eos_token\": \"</s>\"}");
        var e = Assert.Throws<ChatTemplateLoadException>(() => ChatTemplate.FromCheckpoint(_dir));
        Assert.Contains("chat_template.jinja", e.Message);
        Assert.Contains("chat_template.json", e.Message);
        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains(_dir, e.Message);
    }

    [Fact]
    public void Named_list_without_default_and_bad_json_are_reported_with_the_file()
    {
        Write("tokenizer_config.json", "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"t\"}]}");
        var e = Assert.Throws<ChatTemplateLoadException>(() => ChatTemplate.FromCheckpoint(_dir));
        Assert.Contains("no template named \"default\" (found: tool_use)", e.Message);
        Write("chat_template.json", "{\"chat_template\": ");
        e = Assert.Throws<ChatTemplateLoadException>(() => ChatTemplate.FromCheckpoint(_dir));
        Assert.Contains(Path.Combine(_dir, "chat_template.json"), e.Message);
        Assert.Contains("invalid JSON", e.Message);
    }

    [Fact]
    public void Template_syntax_errors_surface_from_loading()
    {
        Write("chat_template.jinja", "{% for m in messages %}");
        Assert.Throws<ChatTemplateSyntaxException>(() => ChatTemplate.FromCheckpoint(_dir));
    }
}
