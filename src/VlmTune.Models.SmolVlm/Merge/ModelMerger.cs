using System.Text.Json.Nodes;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Nn;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;

namespace VlmTune.Models.SmolVlm.Merge;

/// <summary>
/// Folds a PEFT adapter into its base and writes a standalone HF checkpoint (sharded safetensors + index when large,
/// config, tokenizer, processor, chat template). LoRA: W' = W + s·B·A. DoRA: W' = m / ‖W + s·B·A‖_row ∘ (W + s·B·A)
/// (PEFT's merge, the norm taken on the weight merged into). modules_to_save weights replace the base ones.
/// Reports the drift between the merged checkpoint and the model as trained (the base rebuilt from the adapter's
/// <see cref="BasePreparation"/> + adapter; without one, the merge base + adapter) on seeded samples.
/// </summary>
public static class ModelMerger
{
    public static MergeDrift Merge(string baseDir, string adapterDir, string output, MergeOptions options, Device device, Action<string>? progress = null)
    {
        OutputDirectory.Check(output, options.Force, baseDir, adapterDir);
        var prep = options.Preparation;
        if (prep != null)
        {
            string hash = BasePreparation.HashWeights(baseDir);
            if (!string.Equals(hash, prep.BaseWeightsSha256, StringComparison.OrdinalIgnoreCase))
                progress?.Invoke($"warning: the base checkpoint {baseDir} (weights sha256 {hash}) is not the one the adapter was trained on " +
                                 $"(sha256 {prep.BaseWeightsSha256}, recorded in {Path.Combine(adapterDir, BasePreparation.FileName)})");
        }
        var model = SmolVlmModel.Load(baseDir, device, out _);
        var config = model.Config;
        if (options.Onto == MergeBase.Dequantized) ModelQuantizer.QuantizeInPlace(model, options.TrainingQuantization);
        var adapters = AdapterSet.Load(model, adapterDir);
        progress?.Invoke($"merge: {adapters.Adapters.Count} adapted modules, {adapters.SavedModules.Count} saved modules, onto the {(options.Onto == MergeBase.Original ? "original" : "dequantized")} base");

        // Merged (f32) weight per adapted linear; every other tensor as the model holds it.
        var merged = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var linears = model.NamedLinears().ToDictionary(l => l.Path + ".weight", l => l.Layer, StringComparer.Ordinal);
        using (GradMode.NoGrad())
        {
            foreach (var a in adapters.Adapters)
            {
                var layer = linears[a.Path + ".weight"];
                var w = Ops.Add(layer.DequantizedWeight(), a.DeltaWeight());
                if (a.Magnitude != null)
                    w = Ops.Mul(Ops.Div(Ops.Reshape(a.Magnitude, -1, 1), Ops.Sqrt(Ops.Sum(Ops.Square(w), 1, keepDim: true))), w);
                merged[a.Path + ".weight"] = w;
            }
            foreach (var m in adapters.SavedModules)
            {
                merged[m.Path + ".weight"] = m.Weight.Detach();
                if (m.Bias != null) merged[m.Path + ".bias"] = m.Bias.Detach();
            }
        }
        var dtype = options.DType ?? StorageDType(config);
        string tmp = OutputDirectory.CreateTemp(output);
        try
        {
            var writer = new SafeTensorsWriter { Metadata = new() { ["format"] = "pt" } };
            var keys = SmolVlmWeightNames.Enumerate(config);
            var lost = merged.Keys.Where(k => !keys.Any(e => e.Name == k)).ToList();
            if (lost.Count > 0) // e.g. an adapted lm_head whose weight is tied to the embeddings: nothing to write it into
                throw new InvalidOperationException($"merge: the checkpoint stores no tensor for {string.Join(", ", lost)} (tied embeddings?); refusing to drop the adapter's change");
            foreach (var (key, shape) in keys)
            {
                Tensor t = merged.TryGetValue(key, out var mt) ? mt
                    : linears.TryGetValue(key, out var lin) && lin.IsQuantized ? lin.DequantizedWeight()
                    : model.Parameters[key];
                if (!t.Shape.ToArray().Select(d => (long)d).SequenceEqual(shape))
                    throw new InvalidOperationException($"merge: {key} has shape {t.Shape}, expected ({string.Join(",", shape)})");
                var outT = Ops.ToDType(t, dtype);
                writer.Add(key, dtype, shape, outT.ToBytes());
            }
            writer.Save(tmp);
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(baseDir, "config.json")))!.AsObject();
            json["torch_dtype"] = dtype == DType.BF16 ? "bfloat16" : dtype == DType.F16 ? "float16" : "float32";
            json.Remove("quantization_config");
            File.WriteAllText(Path.Combine(tmp, "config.json"), json.ToJsonString(new() { WriteIndented = true }) + "\n");
            CopyAuxiliaryFiles(baseDir, adapterDir, tmp);
            if (options.QuantizeOutput is { } q)
            {
                string qtmp = tmp + "-q";
                ModelQuantizer.WriteCheckpoint(tmp, qtmp, q, force: true, progress);
                Directory.Delete(tmp, true);
                Directory.Move(qtmp, tmp);
            }
            OutputDirectory.Commit(tmp, output);
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            throw;
        }

        // The reference: the model as trained. The merge model is it when it was merged onto that same base.
        var reference = model;
        string against = prep == null ? $"the {(options.Onto == MergeBase.Original ? "original" : "dequantized")} base + adapter" : $"the model as trained ({prep.Describe()}) + adapter";
        bool mergedOntoTrainedBase = prep == null || (options.Onto == MergeBase.Dequantized
            ? prep.Quantization is { } tq && SameQuantization(tq, options.TrainingQuantization)
            : prep.Quantization == null);
        if (!mergedOntoTrainedBase)
        {
            reference = SmolVlmModel.Load(baseDir, device, out _);
            if (prep!.Quantization is { } q) ModelQuantizer.QuantizeInPlace(reference, q);
            AdapterSet.Load(reference, adapterDir);
        }
        if (prep != null) reference.ComputeDType = prep.ComputeDType;
        var samples = DriftInputs(config, options.DriftSamples);
        var unmerged = new List<float[]>();
        using (GradMode.NoGrad())
            foreach (var s in samples) unmerged.Add(reference.Forward(s).ToFloatArray());

        var reloaded = SmolVlmModel.Load(output, device, out _);
        reloaded.ComputeDType = reference.ComputeDType;
        double max = 0, sum = 0;
        long count = 0;
        using (GradMode.NoGrad())
        {
            for (int i = 0; i < samples.Count; i++)
            {
                var b = reloaded.Forward(samples[i]).ToFloatArray();
                for (int j = 0; j < b.Length; j++)
                {
                    double d = Math.Abs(b[j] - unmerged[i][j]);
                    max = Math.Max(max, d);
                    sum += d;
                }
                count += b.Length;
            }
        }
        return new MergeDrift(max, count == 0 ? 0 : sum / count, samples.Count, count, against);
    }

    static bool SameQuantization(QuantizeSettings a, QuantizeSettings b) =>
        a.Type == b.Type && a.Blocksize == b.Blocksize && a.DoubleQuant == b.DoubleQuant && a.Skip.SequenceEqual(b.Skip, StringComparer.Ordinal);

    static DType StorageDType(SmolVlmConfig config) => config.TorchDtype switch
    {
        "bfloat16" => DType.BF16,
        "float16" => DType.F16,
        _ => DType.F32,
    };

    /// <summary>Tokenizer, processor and chat-template files: the adapter's copies (those used in training) win over the base's.</summary>
    static void CopyAuxiliaryFiles(string baseDir, string adapterDir, string output)
    {
        string[] names = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.json", "chat_template.jinja",
            "preprocessor_config.json", "processor_config.json", "generation_config.json"];
        foreach (var n in names)
        {
            string fromAdapter = Path.Combine(adapterDir, n), fromBase = Path.Combine(baseDir, n);
            string? src = File.Exists(fromAdapter) ? fromAdapter : File.Exists(fromBase) ? fromBase : null;
            if (src != null) File.Copy(src, Path.Combine(output, n), overwrite: true);
        }
    }

    /// <summary>Seeded drift samples: one text-only sequence and sequences with one tile of random pixels.</summary>
    static List<SmolVlmInputs> DriftInputs(SmolVlmConfig config, int n)
    {
        var rng = new Random(1234);
        int vocab = config.Text.VocabSize, size = config.Vision.ImageSize, seq = config.ImageSeqLen;
        var list = new List<SmolVlmInputs>();
        for (int i = 0; i < n; i++)
        {
            var ids = new List<long>();
            for (int t = 0; t < 12; t++) ids.Add(NextText(rng, vocab, config.ImageTokenId));
            bool image = i > 0;
            if (image) for (int t = 0; t < seq; t++) ids.Add(config.ImageTokenId);
            for (int t = 0; t < 6; t++) ids.Add(NextText(rng, vocab, config.ImageTokenId));
            var pixels = image ? Enumerable.Range(0, 3 * size * size).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray() : null;
            list.Add(new SmolVlmInputs { InputIds = ids.ToArray(), Batch = 1, PixelValues = pixels, TilesPerSample = image ? 1 : 0, TileSize = size });
        }
        return list;
    }

    static long NextText(Random rng, int vocab, int imageToken)
    {
        long id;
        do id = rng.Next(0, vocab); while (id == imageToken);
        return id;
    }
}
