using System.Text;
using System.Text.Json;
using VlmTune.ChatTemplates.Jinja;

namespace VlmTune.ChatTemplates.Tests;

/// <summary>
/// Byte-identical output against Python jinja2 (set up as transformers does) on every fixture case: 67
/// conversations × 6 templates × add_generation_prompt in {false, true}. Cases where jinja2 raised must raise too;
/// raise_exception messages must match exactly.
/// </summary>
public class ChatTemplateFixtureTests
{
    private static readonly JsonElement Templates = Fixtures.Load("templates.json").GetProperty("templates");
    private static readonly Dictionary<string, JsonElement> Conversations = Fixtures.Load("conversations.json")
        .GetProperty("conversations").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!);
    private static readonly JsonElement[] Cases = Fixtures.Load("expected.json").GetProperty("cases").EnumerateArray().ToArray();

    public static TheoryData<string> TemplateNames()
    {
        var data = new TheoryData<string>();
        foreach (var t in Fixtures.Load("templates.json").GetProperty("templates").EnumerateObject()) data.Add(t.Name);
        return data;
    }

    [Fact]
    public void Fixtures_cover_at_least_fifty_conversations_and_the_three_required_templates()
    {
        Assert.True(Conversations.Count >= 50, $"only {Conversations.Count} conversations");
        foreach (string name in new[] { "smolvlm", "smollm2", "llama31" })
            Assert.True(Templates.TryGetProperty(name, out _), name);
    }

    [Theory]
    [MemberData(nameof(TemplateNames))]
    public void Renders_every_conversation_like_python_jinja2(string templateName)
    {
        var spec = Templates.GetProperty(templateName);
        var template = new ChatTemplate(spec.GetProperty("source").GetString()!, NullableString(spec, "bos_token"), NullableString(spec, "eos_token"));
        var failures = new StringBuilder();
        int count = 0;
        foreach (var c in Cases.Where(c => c.GetProperty("template").GetString() == templateName))
        {
            count++;
            var conversation = Conversations[c.GetProperty("conversation").GetString()!];
            bool agp = c.GetProperty("add_generation_prompt").GetBoolean();
            var extra = conversation.GetProperty("extra").EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
            string label = $"{c.GetProperty("conversation").GetString()} agp={agp}";
            string? actual = null;
            ChatTemplateException? error = null;
            try
            {
                actual = template.WithClock(() => Fixtures.FixedNow).RenderValues(conversation.GetProperty("messages"), agp, extra);
            }
            catch (ChatTemplateException e)
            {
                error = e;
            }
            if (c.TryGetProperty("output", out var expected))
            {
                if (error is not null) failures.AppendLine($"{label}: threw {error.Message}");
                else if (actual != expected.GetString())
                    failures.AppendLine($"{label}: output differs\n  expected {JsonSerializer.Serialize(expected.GetString())}\n  actual   {JsonSerializer.Serialize(actual)}");
                continue;
            }
            var want = c.GetProperty("error");
            string kind = want.GetProperty("kind").GetString()!, message = want.GetProperty("message").GetString()!;
            if (error is null) failures.AppendLine($"{label}: expected {kind} error '{message}', rendered {JsonSerializer.Serialize(actual)}");
            else if (kind == "raised" && (error is not ChatTemplateRaisedException || error.Message != message))
                failures.AppendLine($"{label}: expected raise_exception('{message}'), got {error.GetType().Name}: {error.Message}");
            else if (kind != "raised" && (error is not ChatTemplateRenderException r || r.Detail != message))
                failures.AppendLine($"{label}: expected {kind} error '{message}', got {error.GetType().Name}: {error.Message}");
        }
        Assert.True(count > 0, $"no cases for {templateName}");
        Assert.True(failures.Length == 0, $"{templateName}: mismatches against {Fixtures.Generator}:\n{failures}");
    }

    /// <summary>The typed API (ChatMessage/ContentPart) gives the same text as the raw-JSON path on every convertible conversation.</summary>
    [Fact]
    public void Typed_messages_render_like_the_fixture_json()
    {
        var spec = Templates.GetProperty("smolvlm");
        var template = new ChatTemplate(spec.GetProperty("source").GetString()!, NullableString(spec, "bos_token"), NullableString(spec, "eos_token"));
        int compared = 0;
        foreach (var c in Cases.Where(c => c.GetProperty("template").GetString() == "smolvlm" && c.TryGetProperty("output", out _)))
        {
            var conversation = Conversations[c.GetProperty("conversation").GetString()!];
            var typed = ToTyped(conversation.GetProperty("messages"));
            if (typed is null || conversation.GetProperty("extra").EnumerateObject().Any()) continue;
            compared++;
            Assert.Equal(c.GetProperty("output").GetString(), template.Render(typed, c.GetProperty("add_generation_prompt").GetBoolean()));
        }
        Assert.True(compared >= 50, $"only {compared} cases compared");
    }

    /// <summary>Messages with only role + content (string, or parts with only type/text), else null.</summary>
    private static List<ChatMessage>? ToTyped(JsonElement messages)
    {
        var result = new List<ChatMessage>();
        foreach (var m in messages.EnumerateArray())
        {
            if (m.EnumerateObject().Any(p => p.Name is not ("role" or "content"))) return null;
            string role = m.GetProperty("role").GetString()!;
            var content = m.GetProperty("content");
            if (content.ValueKind == JsonValueKind.String)
            {
                result.Add(new ChatMessage(role, content.GetString()!));
                continue;
            }
            var parts = new List<ContentPart>();
            foreach (var p in content.EnumerateArray())
            {
                if (p.EnumerateObject().Any(f => f.Name is not ("type" or "text"))) return null;
                parts.Add(new ContentPart(p.GetProperty("type").GetString()!, p.TryGetProperty("text", out var t) ? t.GetString() : null));
            }
            result.Add(new ChatMessage(role, parts));
        }
        return result;
    }

    private static string? NullableString(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
