using VlmTune.Tokenizers.Pipeline;

namespace VlmTune.Tokenizers.Tests.Pipeline;

/// <summary>The GPT-2 regex scanner on the cases that decide its shape (expected pieces follow the regex by hand).</summary>
public sealed class Gpt2SplitterTests
{
    private static string[] Split(string s)
    {
        var ranges = new List<(int Start, int Length)>();
        Gpt2Splitter.Split(s, ranges);
        return ranges.Select(r => s.Substring(r.Start, r.Length)).ToArray();
    }

    [Theory]
    [InlineData("Hello world", new[] { "Hello", " world" })]
    [InlineData("a   b", new[] { "a", "  ", " b" })]                 // \s+(?!\S) gives back the last space
    [InlineData("a\n\nb", new[] { "a", "\n", "\n", "b" })]          // ...which is a match of its own before a letter
    [InlineData("a  \n", new[] { "a", "  \n" })]                    // trailing whitespace stays together
    [InlineData("it's I'M we're", new[] { "it", "'s", " I", "'", "M", " we", "'re" })]
    [InlineData("x 123 !?", new[] { "x", " 123", " !?" })]
    [InlineData("3.14", new[] { "3", ".", "14" })]
    [InlineData(" 🤖🤖x", new[] { " 🤖🤖", "x" })]
    [InlineData("日本語 テキスト", new[] { "日本語", " テキスト" })]
    [InlineData("e\u0301t\u00e9", new[] { "e", "\u0301", "t\u00e9" })] // combining marks are not letters
    [InlineData("a\u00A0b", new[] { "a", "\u00A0", "b" })]               // NBSP is whitespace but not the ' ?' prefix
    public void Splits_like_the_regex(string input, string[] expected) => Assert.Equal(expected, Split(input));
}
