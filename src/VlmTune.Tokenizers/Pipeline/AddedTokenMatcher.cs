using System.Text;

namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// Finds added tokens in a text exactly as Hugging Face's <c>AddedVocabulary::find_matches</c> does:
/// an Aho-Corasick scan with leftmost-longest semantics over all patterns (non-overlapping, the scan resumes
/// after each match whether or not the match is kept), then per token:
/// single_word drops matches touching a word character (Rust regex <c>\w</c>) on either side;
/// lstrip extends the start over the whitespace before it (never before the previous split);
/// rstrip extends the end over the whitespace after it.
/// </summary>
internal sealed class AddedTokenMatcher
{
    /// <summary>A piece of the text: an added token id, or -1 for text still to be tokenized.</summary>
    public readonly record struct Split(int TokenId, int Start, int End);

    private sealed class Node
    {
        public Dictionary<char, Node>? Children;
        public AddedToken? Token;
    }

    private readonly Node _root = new();
    private readonly bool[] _firstChars = new bool[65536];

    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> tokens)
    {
        foreach (var (pattern, token) in tokens)
        {
            if (pattern.Length == 0) continue;
            Node node = _root;
            foreach (char c in pattern)
            {
                node.Children ??= new Dictionary<char, Node>();
                if (!node.Children.TryGetValue(c, out Node? child)) node.Children[c] = child = new Node();
                node = child;
            }
            // Aho-Corasick keeps the first pattern given for a duplicate string.
            node.Token ??= token;
            _firstChars[pattern[0]] = true;
            IsEmpty = false;
        }
    }

    public bool IsEmpty { get; } = true;

    /// <summary>Splits <paramref name="s"/> into added tokens and the text between them (empty pieces included).</summary>
    public void FindMatches(ReadOnlySpan<char> s, List<Split> output)
    {
        int startOffset = 0;
        int i = 0;
        while (i < s.Length)
        {
            if (!_firstChars[s[i]] || LongestAt(s, i, out AddedToken? token, out int end) is false)
            {
                i++;
                continue;
            }
            int start = i;
            i = end; // the scan resumes after this match even if it is discarded below
            if (token!.SingleWord)
            {
                bool startSpace = start == 0 || !UnicodeClass.IsWordCharacter(UnicodeClass.RuneBefore(s, start, out _));
                bool stopSpace = end == s.Length || !UnicodeClass.IsWordCharacter(UnicodeClass.RuneAt(s, end, out _));
                if (!startSpace || !stopSpace) continue;
            }
            if (token.LStrip) start = Math.Max(WhitespaceStartBefore(s, start), startOffset);
            if (token.RStrip) end = WhitespaceEndAfter(s, end);
            if (startOffset < start) output.Add(new Split(-1, startOffset, start));
            output.Add(new Split(token.Id, start, end));
            startOffset = end;
        }
        if (startOffset != s.Length || s.Length == 0) output.Add(new Split(-1, startOffset, s.Length));
    }

    private bool LongestAt(ReadOnlySpan<char> s, int i, out AddedToken? token, out int end)
    {
        token = null;
        end = i;
        Node node = _root;
        for (int k = i; k < s.Length; k++)
        {
            if (node.Children is null || !node.Children.TryGetValue(s[k], out Node? child)) break;
            node = child;
            if (node.Token is not null)
            {
                token = node.Token;
                end = k + 1;
            }
        }
        return token is not null;
    }

    private static int WhitespaceStartBefore(ReadOnlySpan<char> s, int start)
    {
        while (start > 0)
        {
            Rune r = UnicodeClass.RuneBefore(s, start, out int len);
            if (!UnicodeClass.IsWhiteSpace(r)) break;
            start -= len;
        }
        return start;
    }

    private static int WhitespaceEndAfter(ReadOnlySpan<char> s, int end)
    {
        while (end < s.Length)
        {
            Rune r = UnicodeClass.RuneAt(s, end, out int len);
            if (!UnicodeClass.IsWhiteSpace(r)) break;
            end += len;
        }
        return end;
    }
}
