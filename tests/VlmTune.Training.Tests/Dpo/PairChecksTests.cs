using VlmTune.ChatTemplates;
using VlmTune.Data.Datasets;
using VlmTune.Training.Dpo;

namespace VlmTune.Training.Tests.Dpo;

public class PairChecksTests
{
    static PreferenceExample Pair(string chosen, string rejected, int line = 3) => new(new RecordSource("p.jsonl", line),
        [new ChatMessage("user", "q")], [new ChatMessage("assistant", chosen)],
        [new ChatMessage("assistant", [ContentPart.FromText(rejected)])], []);

    [Fact]
    public void Identical_or_empty_answers_are_warned_about_with_file_and_line()
    {
        Assert.Empty(PairChecks.Warnings(Pair("yes", "no")));
        Assert.Equal(["p.jsonl:3: chosen equals rejected (the pair contributes no gradient)"], PairChecks.Warnings(Pair("same", "same")));
        Assert.Equal(["p.jsonl:3: the chosen answer is empty"], PairChecks.Warnings(Pair(" ", "no")));
        Assert.Equal(["p.jsonl:3: the rejected answer is empty"], PairChecks.Warnings(Pair("yes", "")));
        var many = PairChecks.Summarise(Enumerable.Range(1, 8).SelectMany(i => PairChecks.Warnings(Pair("x", "x", i))));
        Assert.Equal(6, many.Count);
        Assert.Contains("3 more", many[^1]);
    }
}
