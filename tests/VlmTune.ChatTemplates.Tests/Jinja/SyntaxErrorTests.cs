using VlmTune.ChatTemplates.Jinja;

namespace VlmTune.ChatTemplates.Tests.Jinja;

/// <summary>Invalid templates fail at parse time with a typed error giving line and column (1-based).</summary>
public class SyntaxErrorTests
{
    [Theory]
    [InlineData("{% for m in messages %}\n{{ m }}\n", 1, 4, "was never closed (expected 'endfor' or 'else')")]
    [InlineData("ok\n{% if x %}a{% endfor %}", 2, 15, "unknown tag 'endfor'; the innermost open block is 'if' (line 2, column 4)")]
    [InlineData("line one\n  {{ x | nosuchfilter }}", 2, 10, "no filter named 'nosuchfilter'")]
    [InlineData("{{ x is nosuchtest }}", 1, 9, "no test named 'nosuchtest'")]
    [InlineData("a\nb\n   {{ 'unterminated }}", 3, 7, "unterminated string literal")]
    [InlineData("{{ (1, 2 }}", 1, 10, "unexpected '}', expected ')'")]
    [InlineData("{{ x", 1, 1, "has no closing '}}'")]
    [InlineData("{# comment", 1, 1, "missing end of comment tag")]
    [InlineData("{% frobnicate %}", 1, 4, "unknown tag 'frobnicate'")]
    [InlineData("{% break %}", 1, 4, "'break' outside of a for loop")]
    [InlineData("{% include 'x.jinja' %}", 1, 4, "'include' tag is not supported")]
    [InlineData("{{ 1 + }}", 1, 8, "unexpected end of print statement")]
    [InlineData("{{ a ! b }}", 1, 6, "unexpected character '!'")]
    public void Reports_line_and_column(string source, int line, int column, string fragment)
    {
        var e = Assert.Throws<ChatTemplateSyntaxException>(() => JinjaTemplate.Parse(source));
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains(fragment, e.Message);
        Assert.StartsWith($"chat template syntax error at line {line}, column {column}: ", e.Message);
    }

    [Fact]
    public void Columns_count_from_the_start_of_the_line_after_crlf_normalisation()
    {
        var e = Assert.Throws<ChatTemplateSyntaxException>(() => JinjaTemplate.Parse("x\r\n\r\n  {{ a. }}"));
        Assert.Equal((3, 9), (e.Line, e.Column));
    }
}
