namespace VlmTune.ChatTemplates.Tests;

/// <summary>The typed API (ChatMessage / ContentPart) on the SmolVLM template, checked against the spec's examples (smolvlm.md §5.1).</summary>
public class ChatTemplateTests
{
    // SmolVLM-256M chat_template.json, exact text (spec §5.1).
    internal const string SmolVlm =
        "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}" +
        "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}" +
        "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}" +
        "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n" +
        "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

    [Fact]
    public void SmolVlm_inference_prompt_matches_the_spec()
    {
        var template = new ChatTemplate(SmolVlm);
        var messages = new[] { new ChatMessage("user", [ContentPart.Image(), ContentPart.FromText("Can you describe this image?")]) };
        Assert.Equal("<|im_start|>User:<image>Can you describe this image?<end_of_utterance>\nAssistant:", template.Render(messages, addGenerationPrompt: true));
    }

    [Fact]
    public void SmolVlm_training_pair_matches_the_spec()
    {
        var template = new ChatTemplate(SmolVlm);
        var messages = new[]
        {
            new ChatMessage("user", [ContentPart.Image(), ContentPart.FromText("Q?")]),
            new ChatMessage("assistant", [ContentPart.FromText("A")]),
        };
        Assert.Equal("<|im_start|>User:<image>Q?<end_of_utterance>\nAssistant: A<end_of_utterance>\n", template.Render(messages, addGenerationPrompt: false));
    }

    [Fact]
    public void String_content_extra_variables_and_special_tokens_reach_the_template()
    {
        var template = new ChatTemplate("{{ bos_token }}{% for m in messages %}{{ m.role }}={{ m.content }}{% if m.name is defined %}({{ m.name }}){% endif %};{% endfor %}{{ flavour }}{{ eos_token }}", "<s>", "</s>");
        var messages = new[]
        {
            new ChatMessage("system", "be nice"),
            new ChatMessage("user", "hi") { Extra = new Dictionary<string, object?> { ["name"] = "ann" } },
        };
        var extra = new Dictionary<string, object?> { ["flavour"] = "!" };
        Assert.Equal("<s>system=be nice;user=hi(ann);!</s>", template.Render(messages, false, extra));
    }

    [Fact]
    public void Content_parts_are_plain_dicts_with_type_then_text()
    {
        var template = new ChatTemplate("{{ messages[0].content | tojson }}");
        var messages = new[] { new ChatMessage("user", [ContentPart.Image(), ContentPart.FromText("é")]) };
        Assert.Equal("[{\"type\": \"image\"}, {\"type\": \"text\", \"text\": \"é\"}]", template.Render(messages, false));
    }
}
