using System.Text;

namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// tokenizer.json <c>pre_tokenizer</c>: a list of steps applied in order to every piece of text.
/// Supported: ByteLevel (GPT-2 regex split + byte-to-character mapping), Digits, Sequence, null.
/// </summary>
internal sealed class PreTokenizer
{
    private enum Kind { Digits, ByteLevel }

    private readonly record struct Step(Kind Kind, bool IndividualDigits, bool AddPrefixSpace, bool UseRegex);

    private readonly Step[] _steps;

    private PreTokenizer(Step[] steps) => _steps = steps;

    public static PreTokenizer Load(Json? json)
    {
        var steps = new List<Step>();
        if (json is Json j) Collect(j, steps);
        return new PreTokenizer(steps.ToArray());
    }

    private static void Collect(Json json, List<Step> steps)
    {
        string type = json.TypeName();
        switch (type)
        {
            case "Sequence":
                foreach (Json item in json.Get("pretokenizers").Items()) Collect(item, steps);
                return;
            case "Digits":
                steps.Add(new Step(Kind.Digits, json.BoolOr("individual_digits", false), false, false));
                return;
            case "ByteLevel":
                steps.Add(new Step(Kind.ByteLevel, false, json.BoolOr("add_prefix_space", true), json.BoolOr("use_regex", true)));
                return;
            default:
                throw json.Error($"pre_tokenizer type \"{type}\" is not supported (supported: ByteLevel, Digits, Sequence, null)");
        }
    }

    /// <summary>Splits one piece of text into the words the model sees.</summary>
    public void Split(string text, List<string> words)
    {
        words.Clear();
        words.Add(text);
        var next = new List<string>();
        var ranges = new List<(int Start, int Length)>();
        foreach (Step step in _steps)
        {
            next.Clear();
            foreach (string piece in words)
            {
                if (step.Kind == Kind.Digits) SplitDigits(piece, step.IndividualDigits, next);
                else SplitByteLevel(piece, step, ranges, next);
            }
            words.Clear();
            words.AddRange(next);
        }
    }

    /// <summary>Rust <c>char::is_numeric</c> characters are isolated, one by one or as contiguous runs.</summary>
    private static void SplitDigits(string piece, bool individual, List<string> output)
    {
        int start = 0, i = 0;
        while (i < piece.Length)
        {
            Rune r = UnicodeClass.RuneAt(piece, i, out int len);
            if (!UnicodeClass.IsNumber(r))
            {
                i += len;
                continue;
            }
            if (start < i) output.Add(piece[start..i]);
            int end = i + len;
            if (!individual)
            {
                while (end < piece.Length && UnicodeClass.IsNumber(UnicodeClass.RuneAt(piece, end, out int l))) end += l;
            }
            output.Add(piece[i..end]);
            start = i = end;
        }
        if (start < piece.Length) output.Add(piece[start..]);
    }

    private static void SplitByteLevel(string piece, Step step, List<(int, int)> ranges, List<string> output)
    {
        if (step.AddPrefixSpace && !piece.StartsWith(' ')) piece = " " + piece;
        if (!step.UseRegex)
        {
            output.Add(MapBytes(piece));
            return;
        }
        ranges.Clear();
        Gpt2Splitter.Split(piece, ranges);
        foreach (var (start, length) in ranges) output.Add(MapBytes(piece.AsSpan(start, length)));
    }

    /// <summary>UTF-8 bytes of <paramref name="s"/>, each replaced by its byte-level stand-in character.</summary>
    private static string MapBytes(ReadOnlySpan<char> s)
    {
        Span<byte> stack = stackalloc byte[256];
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        Span<byte> bytes = max <= stack.Length ? stack : new byte[max];
        int n = Encoding.UTF8.GetBytes(s, bytes);
        Span<char> chars = n <= 256 ? stackalloc char[n] : new char[n];
        for (int k = 0; k < n; k++) chars[k] = ByteLevelAlphabet.ByteToChar[bytes[k]];
        return new string(chars);
    }
}
