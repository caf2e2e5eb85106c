using System.Text;

namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// The GPT-2 pre-tokenization regex used by Hugging Face's ByteLevel pre-tokenizer, as a hand-written scanner:
/// <code>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</code>
/// Oniguruma tries the alternatives in order at each position (leftmost-first, greedy, backtracking);
/// every character is covered by some alternative, so the matches tile the input. The one backtracking case
/// is <c>\s+(?!\S)</c>: a whitespace run followed by a non-space gives back its last character, which then
/// either prefixes the next word (a plain space) or becomes a match of its own via <c>\s+</c>.
/// </summary>
internal static class Gpt2Splitter
{
    private enum CharClass { Space, Letter, Number, Other }

    /// <summary>Appends the matches of <paramref name="s"/> as (start, length) pairs, offsets relative to <paramref name="s"/>.</summary>
    public static void Split(ReadOnlySpan<char> s, List<(int Start, int Length)> output)
    {
        int i = 0;
        while (i < s.Length)
        {
            int end = MatchAt(s, i);
            output.Add((i, end - i));
            i = end;
        }
    }

    /// <summary>End (exclusive) of the match that starts at <paramref name="i"/>.</summary>
    private static int MatchAt(ReadOnlySpan<char> s, int i)
    {
        char c = s[i];
        if (c == '\'' && i + 1 < s.Length)
        {
            char n = s[i + 1];
            if (n is 's' or 't' or 'm' or 'd') return i + 2;
            if (i + 2 < s.Length)
            {
                char n2 = s[i + 2];
                if ((n == 'r' && n2 == 'e') || (n == 'v' && n2 == 'e') || (n == 'l' && n2 == 'l')) return i + 3;
            }
        }

        // " ?X+" for X in letters, numbers, others: an optional single ASCII space, then a run of one class.
        int runStart = i;
        if (c == ' ' && i + 1 < s.Length)
        {
            CharClass next = Classify(s, i + 1, out _);
            if (next != CharClass.Space) runStart = i + 1;
        }
        CharClass cls = Classify(s, runStart, out int len);
        if (cls != CharClass.Space) return RunEnd(s, runStart + len, cls);

        // Whitespace: \s+(?!\S), else \s+ (a single whitespace character before a non-space).
        int j = i + len;
        int last = i;
        while (j < s.Length)
        {
            if (Classify(s, j, out int l) != CharClass.Space) break;
            last = j;
            j += l;
        }
        if (j == s.Length) return j;
        return last > i ? last : j;
    }

    private static int RunEnd(ReadOnlySpan<char> s, int j, CharClass cls)
    {
        while (j < s.Length)
        {
            if (Classify(s, j, out int l) != cls) break;
            j += l;
        }
        return j;
    }

    private static CharClass Classify(ReadOnlySpan<char> s, int i, out int length)
    {
        char c = s[i];
        if (c < 0x80)
        {
            length = 1;
            if (char.IsAsciiLetter(c)) return CharClass.Letter;
            if (char.IsAsciiDigit(c)) return CharClass.Number;
            if (c == ' ' || (c >= '\t' && c <= '\r')) return CharClass.Space;
            return CharClass.Other;
        }
        Rune r = UnicodeClass.RuneAt(s, i, out length);
        if (UnicodeClass.IsWhiteSpace(r)) return CharClass.Space;
        if (UnicodeClass.IsLetter(r)) return CharClass.Letter;
        if (UnicodeClass.IsNumber(r)) return CharClass.Number;
        return CharClass.Other;
    }
}
