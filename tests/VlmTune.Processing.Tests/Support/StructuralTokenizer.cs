using System.Text.RegularExpressions;

namespace VlmTune.Processing.Tests.Support;

/// <summary>
/// Counts tokens of an expanded image span the way the SmolVLM-256M tokenizer splits it (spec §5.2): every
/// special token (&lt;image&gt;, &lt;fake_token_around_image&gt;, &lt;global-img&gt;, &lt;row_r_col_c&gt;) is one token,
/// "\n\n" is one token, a lone "\n" is one token. Anything else is rejected (not needed by these tests).
/// </summary>
internal static partial class StructuralTokenizer
{
    [GeneratedRegex(@"<image>|<fake_token_around_image>|<global-img>|<row_\d+_col_\d+>|\n\n|\n")]
    private static partial Regex Piece();

    public static int Count(string text)
    {
        int count = 0, covered = 0;
        foreach (Match m in Piece().Matches(text))
        {
            if (m.Index != covered) throw new ArgumentException($"unexpected text at offset {covered}: '{text[covered..m.Index]}'");
            covered = m.Index + m.Length;
            count++;
        }
        if (covered != text.Length) throw new ArgumentException($"unexpected text at offset {covered}");
        return count;
    }
}
