using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Adapters;

/// <summary>Which base an adapter runs on: the one recorded in its <see cref="BasePreparation"/> (default), or the checkpoint's own weights.</summary>
public enum BaseChoice { AsTrained, Original }

/// <summary>
/// Loads a base checkpoint and, optionally, an adapter onto it — the way generate / forward / eval / chat / merge all
/// do. With <see cref="BaseChoice.AsTrained"/> and an adapter that records its base preparation, the base is rebuilt
/// exactly as in training (4-bit quantisation with the recorded type, blocksize and double quant; the recorded
/// compute dtype) and one log line says so. A base whose weights hash differs from the recorded one gives a warning
/// naming both hashes. An adapter without the record runs on the checkpoint as loaded (today's PEFT behaviour).
/// </summary>
public static class AdaptedModel
{
    public static (SmolVlmModel Model, AdapterSet? Adapters) Load(string modelDir, string? adapterDir, Device device, BaseChoice choice,
        Action<string> info, Action<string> warn)
    {
        var model = SmolVlmModel.Load(modelDir, device, out var unused);
        if (unused.Count > 0) warn($"{unused.Count} checkpoint tensors unused, e.g. {unused[0]}");
        if (adapterDir == null) return (model, null);
        var prep = BasePreparation.TryLoad(adapterDir);
        PrepareBase(model, modelDir, adapterDir, prep, choice, info, warn);
        var set = AdapterSet.Load(model, adapterDir);
        info($"adapter: {set.Adapters.Count} LoRA modules, {set.SavedModules.Count} saved modules from {adapterDir}");
        return (model, set);
    }

    /// <summary>Checks the base's hash against the record and, for <see cref="BaseChoice.AsTrained"/>, rebuilds the trained base in place.</summary>
    public static void PrepareBase(SmolVlmModel model, string modelDir, string adapterDir, BasePreparation? prep, BaseChoice choice,
        Action<string> info, Action<string> warn)
    {
        if (prep == null)
        {
            info($"base: {modelDir} as stored ({adapterDir} records no base preparation: {BasePreparation.FileName} is absent)");
            return;
        }
        string hash = BasePreparation.HashWeights(modelDir);
        if (!string.Equals(hash, prep.BaseWeightsSha256, StringComparison.OrdinalIgnoreCase))
            warn($"the base checkpoint {modelDir} (weights sha256 {hash}) is not the one the adapter was trained on " +
                 $"(sha256 {prep.BaseWeightsSha256}{(prep.BaseModel is { } b ? $", {b}" : "")}, recorded in {Path.Combine(adapterDir, BasePreparation.FileName)})");
        if (choice == BaseChoice.Original)
        {
            info($"base: {modelDir} as stored (--base original), not the base the adapter was trained on ({prep.Describe()})");
            return;
        }
        int quantized = prep.Quantization is { } q ? ModelQuantizer.QuantizeInPlace(model, q) : 0;
        model.ComputeDType = prep.ComputeDType;
        info($"base: rebuilt as trained — {prep.Describe()}{(prep.Quantization != null ? $" ({quantized} linear layers quantised)" : "")}, " +
             $"from {BasePreparation.FileName}; --base original runs the adapter on the stored weights instead");
    }
}
