using System.Text;

namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// tokenizer.json <c>pre_tokenizer</c>: a list of steps applied in order to every piece of text.
/// Supported: Digits, ByteLevel (GPT-2 regex split; the byte-to-character mapping happens in <see cref="BpeModel"/>),
/// Sequence, null. ByteLevel must be the last step: steps after it would see mapped characters, which we refuse
/// rather than emulate.
/// </summary>
internal sealed class PreTokenizer
{
    private enum Kind { Digits, ByteLevel }

    private readonly record struct Step(Kind Kind, bool IndividualDigits, bool AddPrefixSpace, bool UseRegex);

    /// <summary>A word: a range of the input piece, optionally preceded by an inserted space (add_prefix_space).</summary>
    public readonly record struct Word(int Start, int Length, bool PrefixSpace);

    private readonly Step[] _steps;

    private PreTokenizer(Step[] steps) => _steps = steps;

    /// <summary>True when a ByteLevel step is present: words are fed to BPE as UTF-8 byte stand-ins.</summary>
    public bool MapsBytes => _steps.Length > 0 && _steps[^1].Kind == Kind.ByteLevel;

    public static PreTokenizer Load(Json? json)
    {
        var steps = new List<Step>();
        if (json is Json j) Collect(j, steps);
        return new PreTokenizer(steps.ToArray());
    }

    private static void Collect(Json json, List<Step> steps)
    {
        string type = json.TypeName();
        if (steps.Count > 0 && steps[^1].Kind == Kind.ByteLevel && type != "Sequence")
            throw json.Error($"pre_tokenizer \"{type}\" after ByteLevel is not supported (ByteLevel must come last)");
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

    /// <summary>Splits <paramref name="text"/> into the words the model sees, as ranges of <paramref name="text"/>.</summary>
    public void Split(string text, List<Word> words, List<Word> scratch, List<(int Start, int Length)> ranges)
    {
        words.Clear();
        words.Add(new Word(0, text.Length, false));
        foreach (Step step in _steps)
        {
            scratch.Clear();
            foreach (Word piece in words)
            {
                if (step.Kind == Kind.Digits) SplitDigits(text, piece, step.IndividualDigits, scratch);
                else SplitByteLevel(text, piece, step, ranges, scratch);
            }
            words.Clear();
            words.AddRange(scratch);
        }
    }

    /// <summary>Rust <c>char::is_numeric</c> characters are isolated, one by one or as contiguous runs.</summary>
    private static void SplitDigits(string text, Word piece, bool individual, List<Word> output)
    {
        int end = piece.Start + piece.Length;
        int start = piece.Start, i = piece.Start;
        while (i < end)
        {
            Rune r = UnicodeClass.RuneAt(text.AsSpan(0, end), i, out int len);
            if (!UnicodeClass.IsNumber(r))
            {
                i += len;
                continue;
            }
            if (start < i) output.Add(new Word(start, i - start, false));
            int stop = i + len;
            if (!individual)
            {
                while (stop < end && UnicodeClass.IsNumber(UnicodeClass.RuneAt(text.AsSpan(0, end), stop, out int l))) stop += l;
            }
            output.Add(new Word(i, stop - i, false));
            start = i = stop;
        }
        if (start < end) output.Add(new Word(start, end - start, false));
    }

    /// <summary>
    /// add_prefix_space inserts a space before every piece that does not start with one (HF applies it per split);
    /// the regex then runs on the prefixed text, so the inserted space joins the first match.
    /// </summary>
    private static void SplitByteLevel(string text, Word piece, Step step, List<(int, int)> ranges, List<Word> output)
    {
        bool prefix = step.AddPrefixSpace && text[piece.Start] != ' ';
        if (!step.UseRegex)
        {
            output.Add(piece with { PrefixSpace = prefix });
            return;
        }
        ranges.Clear();
        if (prefix) Gpt2Splitter.Split((" " + text.Substring(piece.Start, piece.Length)).AsSpan(), ranges);
        else Gpt2Splitter.Split(text.AsSpan(piece.Start, piece.Length), ranges);
        foreach (var (start, length) in ranges)
        {
            if (prefix && start == 0) output.Add(new Word(piece.Start, length - 1, true));
            else output.Add(new Word(piece.Start + start - (prefix ? 1 : 0), length, false));
        }
    }
}
