using System.CommandLine;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Checkpoints.SmolVlm;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune inspect model DIR`: reads config.json and the safetensors headers only (no tensor data) and prints the
/// parameter count per tower, the dtypes, and every tensor that is missing, unexpected or shaped unlike the config.
/// Exits 1 when the checkpoint does not fit its config.
/// </summary>
public static class InspectModelCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Checkpoint folder (config.json + model.safetensors or shards)." };
        var dir = new Argument<string?>("DIR") { Description = "The same as --model (kept for older scripts).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("model", "Check a model checkpoint against its config: towers, parameters, dtypes, shapes.");
        command.Options.Add(model);
        command.Arguments.Add(dir);
        command.SetAction(r => Run(r.GetValue(model) ?? r.GetValue(dir) ?? throw new UserErrorException("--model is required (the checkpoint folder)")));
        return command;
    }

    static int Run(string dir)
    {
        if (!Directory.Exists(dir)) throw new UserErrorException($"{dir}: model folder does not exist");
        var config = SmolVlmConfig.Load(dir);
        var expected = SmolVlmWeightNames.Enumerate(config).ToDictionary(e => e.Name, e => e.Shape, StringComparer.Ordinal);
        using var ckpt = SafeTensorsCheckpoint.Open(dir);

        var towers = new Dictionary<string, (int Tensors, long Params)>();
        var dtypes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var mismatched = new List<string>();
        var unexpected = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        // bitsandbytes 4-bit weights: "X.weight" (u8 codes) + "X.weight.{absmax,quant_map,nested_*,quant_state.*}";
        // the logical shape and type come from the quant_state JSON.
        var quantized = new Dictionary<string, (long[] Shape, string Type)>(StringComparer.Ordinal);
        foreach (string name in ckpt.Names)
        {
            int at = name.IndexOf(".quant_state.bitsandbytes__", StringComparison.Ordinal);
            if (at < 0) continue;
            using var state = System.Text.Json.JsonDocument.Parse(ckpt.GetBytes(name).ToArray());
            var shape = state.RootElement.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            quantized[SmolVlmWeightNames.NormalizeKey(name[..at])] = (shape, name[(at + ".quant_state.bitsandbytes__".Length)..]);
        }
        int stateTensors = 0;
        foreach (string name in ckpt.Names)
        {
            var info = ckpt.GetInfo(name);
            string key = SmolVlmWeightNames.NormalizeKey(name);
            if (quantized.Keys.Any(q => key.StartsWith(q + ".", StringComparison.Ordinal))) { stateTensors++; continue; }
            if (quantized.TryGetValue(key, out var q4))
            {
                long n = q4.Shape.Aggregate(1L, (a, d) => a * d);
                var (qt, qp) = towers.GetValueOrDefault(TowerOf(key));
                towers[TowerOf(key)] = (qt + 1, qp + n);
                string label = $"4-bit {q4.Type}";
                dtypes[label] = dtypes.GetValueOrDefault(label) + 1;
                total += n;
                if (!expected.TryGetValue(key, out var want)) unexpected.Add(name);
                else if (!seen.Add(key)) unexpected.Add($"{name} (a second tensor for {key})");
                else if (!want.SequenceEqual(q4.Shape))
                    mismatched.Add($"{name}: 4-bit [{string.Join(", ", q4.Shape)}], the config needs [{string.Join(", ", want)}]");
                continue;
            }
            string tower = TowerOf(key);
            var (t, p) = towers.GetValueOrDefault(tower);
            towers[tower] = (t + 1, p + info.ElementCount);
            dtypes[info.DTypeName] = dtypes.GetValueOrDefault(info.DTypeName) + 1;
            total += info.ElementCount;
            if (!expected.TryGetValue(key, out var shape)) unexpected.Add(name);
            else if (!seen.Add(key)) unexpected.Add($"{name} (a second tensor for {key})");
            else if (!shape.SequenceEqual(info.Shape))
                mismatched.Add($"{name}: [{string.Join(", ", info.Shape)}], the config needs [{string.Join(", ", shape)}]");
        }
        var missing = expected.Keys.Where(k => !seen.Contains(k)).ToList();

        var v = config.Vision;
        var x = config.Text;
        Console.WriteLine($"model: {Path.GetFullPath(dir)}");
        Console.WriteLine($"config: {config.ModelType}, vision {v.NumHiddenLayers} layers × {v.HiddenSize} ({v.ImageSize} px tiles, patch {v.PatchSize}), " +
                          $"scale factor {config.ScaleFactor} → {config.ImageSeqLen} tokens per tile, text {x.NumHiddenLayers} layers × {x.HiddenSize} " +
                          $"({x.NumAttentionHeads} heads / {x.NumKeyValueHeads} kv), vocab {x.VocabSize}, image token {config.ImageTokenId}");
        Console.WriteLine($"files: {string.Join(", ", ckpt.Files.Select(f => Path.GetFileName(f.Path)))}");
        foreach (string tower in new[] { "vision", "connector", "text", "lm_head", "other" })
            if (towers.TryGetValue(tower, out var c)) Console.WriteLine($"{tower}: {c.Params} parameters in {c.Tensors} tensors");
        Console.WriteLine($"dtypes: {string.Join(", ", dtypes.Select(d => $"{d.Key} ({d.Value})"))}");
        Console.WriteLine($"parameters: {total}");
        Console.WriteLine($"tensors: {ckpt.Names.Count - stateTensors}");
        if (stateTensors > 0) Console.WriteLine($"quantization state tensors: {stateTensors} ({quantized.Count} weights stored in 4 bits, bitsandbytes layout)");
        Report("shape mismatches", mismatched);
        Report("missing keys", missing);
        Report("unexpected keys", unexpected);
        int problems = mismatched.Count + missing.Count + unexpected.Count;
        if (problems == 0)
        {
            Console.WriteLine("ok: every tensor the config needs is present with its shape");
            return 0;
        }
        Console.Error.WriteLine($"error: {dir}: the checkpoint does not fit its config ({mismatched.Count} shape mismatches, " +
                                $"{missing.Count} missing, {unexpected.Count} unexpected)");
        return 1;
    }

    static string TowerOf(string key) =>
        key.StartsWith(SmolVlmWeightNames.VisionPrefix, StringComparison.Ordinal) ? "vision"
        : key == SmolVlmWeightNames.ConnectorWeight ? "connector"
        : key.StartsWith(SmolVlmWeightNames.TextPrefix, StringComparison.Ordinal) ? "text"
        : key == SmolVlmWeightNames.LmHeadWeight ? "lm_head"
        : "other";

    static void Report(string title, List<string> items)
    {
        Console.WriteLine($"{title}: {(items.Count == 0 ? "none" : items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        foreach (string item in items.Take(50)) Console.WriteLine($"  {item}");
        if (items.Count > 50) Console.WriteLine($"  … and {items.Count - 50} more");
    }
}
