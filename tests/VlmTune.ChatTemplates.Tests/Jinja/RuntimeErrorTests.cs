using VlmTune.ChatTemplates.Jinja;

namespace VlmTune.ChatTemplates.Tests.Jinja;

/// <summary>Runtime failures: raise_exception surfaces verbatim; engine errors carry jinja2's text and the template position.</summary>
public class RuntimeErrorTests
{
    private static string Render(string source, params (string Name, object? Value)[] vars) =>
        JinjaTemplate.Parse(source).Render(vars.ToDictionary(v => v.Name, v => v.Value));

    [Fact]
    public void Raise_exception_surfaces_the_template_message_exactly()
    {
        const string source = "{% for m in messages %}\n  {% if m.role not in ['user', 'assistant'] %}{{ raise_exception('Unknown role: ' + m.role) }}{% endif %}\n{% endfor %}";
        var messages = new[] { new Dictionary<string, object?> { ["role"] = "robot" } };
        var e = Assert.Throws<ChatTemplateRaisedException>(() => Render(source, ("messages", messages)));
        Assert.Equal("Unknown role: robot", e.Message);
        Assert.Equal(2, e.Line);
    }

    [Theory]
    [InlineData("{{ x.y }}", "'x' is undefined")]
    [InlineData("{{ d.missing.z }}", "'dict object' has no attribute 'missing'")]
    [InlineData("{{ l[5].z }}", "list object has no element 5")]
    [InlineData("{{ 'a' + 1 }}", "can only concatenate str (not \"int\") to str")]
    [InlineData("{{ u + 'a' }}", "'u' is undefined")]
    [InlineData("{{ l.append(2) }}", "access to attribute 'append' of 'list' object is unsafe.")]
    [InlineData("{{ 1 // 0 }}", "integer division or modulo by zero")]
    [InlineData("{% for a, b in [1] %}{% endfor %}", "'int' object is not iterable")]
    public void Engine_errors_use_jinja2_wording(string source, string detail)
    {
        var e = Assert.Throws<ChatTemplateRenderException>(() => Render(source, ("d", new Dictionary<string, object?>()), ("l", new List<object?> { 1 })));
        Assert.Equal(detail, e.Detail);
        Assert.Equal(1, e.Line);
    }

    [Fact]
    public void Error_position_points_at_the_failing_expression()
    {
        var e = Assert.Throws<ChatTemplateRenderException>(() => Render("ok\nstill ok {{ 1 }}\n   {{ 2 + none }}"));
        Assert.Equal((3, 7), (e.Line, e.Column));
        Assert.Contains("unsupported operand type(s) for +: 'int' and 'NoneType'", e.Message);
    }

    [Fact]
    public void Undefined_prints_empty_and_is_falsy()
    {
        Assert.Equal("[]|no|0|d", Render("[{{ missing }}]|{{ 'yes' if missing else 'no' }}|{{ missing | length }}|{{ missing | default('d') }}"));
    }

    [Fact]
    public void Strftime_now_reads_the_injected_clock()
    {
        var t = JinjaTemplate.Parse("{{ strftime_now('%d %b %Y, %A %-d/%-m %H:%M') }}").WithClock(() => new DateTime(2025, 3, 7, 9, 5, 0));
        Assert.Equal("07 Mar 2025, Friday 7/3 09:05", t.Render(new Dictionary<string, object?>()));
    }
}
