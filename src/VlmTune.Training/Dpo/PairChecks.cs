using VlmTune.ChatTemplates;
using VlmTune.Data.Datasets;

namespace VlmTune.Training.Dpo;

/// <summary>
/// Preference pairs that train nothing or the wrong thing: chosen identical to rejected (the DPO loss is log 2 with
/// a zero gradient whatever the model) and an empty chosen or rejected answer. Warned about, not refused.
/// </summary>
public static class PairChecks
{
    /// <summary>One sentence per problem of <paramref name="pair"/>, naming file:line.</summary>
    public static IEnumerable<string> Warnings(PreferenceExample pair)
    {
        string chosen = Text(pair.Chosen), rejected = Text(pair.Rejected);
        if (chosen.Trim().Length == 0) yield return $"{pair.Source}: the chosen answer is empty";
        if (rejected.Trim().Length == 0) yield return $"{pair.Source}: the rejected answer is empty";
        else if (chosen == rejected) yield return $"{pair.Source}: chosen equals rejected (the pair contributes no gradient)";
    }

    /// <summary>Warnings of all pairs, at most <paramref name="max"/> listed plus a count of the rest.</summary>
    public static List<string> Summarise(IEnumerable<string> warnings, int max = 5)
    {
        var all = warnings.ToList();
        var shown = all.Take(max).ToList();
        if (all.Count > max) shown.Add($"… and {all.Count - max} more preference pairs with an empty or identical answer");
        return shown;
    }

    static string Text(IReadOnlyList<ChatMessage> messages) => string.Join("\n", messages.Select(m =>
        m.Text ?? string.Concat(m.Parts?.Select(p => p.Type == "text" ? p.Text : $"<{p.Type}>") ?? [])));
}
