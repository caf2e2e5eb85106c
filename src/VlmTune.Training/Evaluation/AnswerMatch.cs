using System.Text;
using System.Text.RegularExpressions;

namespace VlmTune.Training.Evaluation;

/// <summary>
/// Exact and normalised answer matching. The normalisation is SQuAD's normalize_answer (the usual VQA/QA rule):
/// lower-case, drop ASCII punctuation, drop the articles a / an / the, collapse whitespace.
/// </summary>
public static partial class AnswerMatch
{
    const string Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    public static bool Exact(string prediction, string reference) => string.Equals(prediction.Trim(), reference.Trim(), StringComparison.Ordinal);

    public static bool Normalised(string prediction, string reference) => string.Equals(Normalise(prediction), Normalise(reference), StringComparison.Ordinal);

    public static string Normalise(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text.ToLowerInvariant())
            if (!Punctuation.Contains(c)) sb.Append(c);
        var noArticles = Articles().Replace(sb.ToString(), " ");
        return string.Join(' ', noArticles.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    [GeneratedRegex(@"\b(a|an|the)\b")]
    private static partial Regex Articles();
}
