using VlmTune.Checkpoints.SmolVlm;

namespace VlmTune.Models.SmolVlm.Adapters;

/// <summary>
/// A linear layer as targeting sees it: HF module path, tower and shape. Built from a live model, or from a config alone
/// (names and shapes, no weights), which is how the figures for the full-size checkpoints are computed.
/// </summary>
public sealed record LinearInfo(string Path, Tower Tower, int InFeatures, int OutFeatures, bool HasBias)
{
    public static IReadOnlyList<LinearInfo> FromModel(SmolVlmModel model) =>
        model.NamedLinears().Select(l => new LinearInfo(l.Path, l.Tower, l.Layer.InFeatures, l.Layer.OutFeatures, l.Layer.Bias != null)).ToList();

    /// <summary>Every linear of the checkpoint layout for <paramref name="config"/> (in <see cref="SmolVlmWeightNames"/> order).</summary>
    public static IReadOnlyList<LinearInfo> FromConfig(SmolVlmConfig config)
    {
        var all = SmolVlmWeightNames.Enumerate(config);
        var names = all.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var list = new List<LinearInfo>();
        foreach (var (name, shape) in all)
        {
            if (!name.EndsWith(".weight", StringComparison.Ordinal) || shape.Length != 2) continue;
            string path = name[..^".weight".Length];
            if (path.EndsWith("embed_tokens", StringComparison.Ordinal) || path.EndsWith("position_embedding", StringComparison.Ordinal)) continue;
            list.Add(new LinearInfo(path, TowerOf(path), (int)shape[1], (int)shape[0], names.Contains(path + ".bias")));
        }
        if (config.LmHeadTied)
            list.Add(new LinearInfo("lm_head", Tower.LmHead, config.Text.HiddenSize, config.Text.VocabSize, false));
        return list;
    }

    static Tower TowerOf(string path) =>
        path.StartsWith(SmolVlmWeightNames.VisionPrefix, StringComparison.Ordinal) ? Tower.Vision
        : path.StartsWith("model.connector.", StringComparison.Ordinal) ? Tower.Connector
        : path == "lm_head" ? Tower.LmHead
        : Tower.Text;
}
