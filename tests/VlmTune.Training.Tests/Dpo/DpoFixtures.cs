using System.Text.Json;

namespace VlmTune.Training.Tests.Dpo;

/// <summary>Reads tests/fixtures/dpo/dpo_loss.json (written by tests/reference/dpo/make_fixtures.py).</summary>
internal static class DpoFixtures
{
    public const int FormatVersion = 1;
    const string Generator = "tests/reference/dpo/make_fixtures.py";

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VlmTune.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("VlmTune.sln not found above " + AppContext.BaseDirectory);
    }

    public static IReadOnlyList<DpoCase> Cases { get; } = Load();

    static IReadOnlyList<DpoCase> Load()
    {
        string path = Path.Combine(RepoRoot(), "tests", "fixtures", "dpo", "dpo_loss.json");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        int version = root.GetProperty("format_version").GetInt32();
        if (version != FormatVersion)
            throw new InvalidDataException($"{path}: format version {version}, expected {FormatVersion}; re-run {Generator}");
        var cases = new List<DpoCase>();
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            var m = c.GetProperty("metrics");
            cases.Add(new DpoCase(
                c.GetProperty("loss_type").GetString()!, c.GetProperty("beta").GetSingle(), c.GetProperty("label_smoothing").GetSingle(),
                Floats(c, "policy_chosen"), Floats(c, "policy_rejected"), Floats(c, "ref_chosen"), Floats(c, "ref_rejected"),
                c.TryGetProperty("chosen_token_counts", out var cc) ? Ints(cc) : null,
                c.TryGetProperty("rejected_token_counts", out var rc) ? Ints(rc) : null,
                c.GetProperty("loss").GetSingle(), Floats(c, "chosen_rewards"), Floats(c, "rejected_rewards"),
                [m.GetProperty("rewards/chosen").GetSingle(), m.GetProperty("rewards/rejected").GetSingle(),
                 m.GetProperty("rewards/accuracies").GetSingle(), m.GetProperty("rewards/margins").GetSingle(),
                 m.GetProperty("logps/chosen").GetSingle(), m.GetProperty("logps/rejected").GetSingle()],
                Floats(c, "grad_policy_chosen"), Floats(c, "grad_policy_rejected"),
                c.TryGetProperty("rpo_alpha", out var rpo) ? rpo.GetSingle() : 0f));
        }
        return cases;
    }

    static float[] Floats(JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => v.GetSingle()).ToArray();
    static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();
}

/// <summary>One fixture case; <see cref="Metrics"/> in TRL order (rewards/chosen, rejected, accuracies, margins, logps/chosen, rejected).</summary>
internal sealed record DpoCase(string LossType, float Beta, float LabelSmoothing,
    float[] PolicyChosen, float[] PolicyRejected, float[] RefChosen, float[] RefRejected,
    int[]? ChosenTokenCounts, int[]? RejectedTokenCounts,
    float Loss, float[] ChosenRewards, float[] RejectedRewards, float[] Metrics,
    float[] GradPolicyChosen, float[] GradPolicyRejected, float RpoAlpha)
{
    public override string ToString() => $"{LossType} beta={Beta} eps={LabelSmoothing}" + (RpoAlpha > 0 ? $" rpo_alpha={RpoAlpha}" : "");
}
