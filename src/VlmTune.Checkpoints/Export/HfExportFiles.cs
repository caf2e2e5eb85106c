using System.Text.Json.Nodes;

namespace VlmTune.Checkpoints.Export;

/// <summary>
/// Makes a merged checkpoint folder loadable by transformers' <c>AutoModelForVision2Seq</c> / <c>AutoProcessor</c>
/// and checks it file by file against the input checkpoint (and the adapter, whose processor files win, as in the
/// merge): config.json carries the architecture class for its model_type (idefics3 →
/// Idefics3ForConditionalGeneration, smolvlm → SmolVLMForConditionalGeneration) and otherwise equals the input's
/// (torch_dtype and quantization_config aside); every other non-weight file of the input is present and byte-identical
/// (copied when missing: vocab.json, merges.txt, added_tokens.json, ...); generation_config.json is derived from the
/// config's token ids when neither input has one; the tokenizer, processor and chat-template files AutoProcessor
/// needs are reported when absent. Files are written through a temporary file and a rename.
/// </summary>
public static class HfExportFiles
{
    private static readonly Dictionary<string, string> Architectures = new()
    {
        ["idefics3"] = "Idefics3ForConditionalGeneration",
        ["smolvlm"] = "SmolVLMForConditionalGeneration",
    };

    private static readonly string[] NotCopied = [".safetensors", ".bin", ".pt", ".pth", ".gguf", ".index.json", ".md", ".gitattributes", ".lock", ".incomplete"];
    private static readonly string[] AdapterOnly = ["adapter_config.json", "adapter_model.safetensors", "trainer_state.json", "training_args.bin"];

    /// <summary>One line of the check: the file and what was found or done.</summary>
    public sealed record Entry(string File, string Status, bool Problem = false);

    /// <summary>Completes and checks <paramref name="output"/>; returns one entry per file considered.</summary>
    public static IReadOnlyList<Entry> Complete(string baseDir, string? adapterDir, string output)
    {
        var report = new List<Entry>();
        report.Add(CheckConfig(baseDir, output));
        var sources = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in Directory.GetFiles(baseDir)) if (Exportable(f)) sources[Path.GetFileName(f)] = f;
        if (adapterDir is not null && Directory.Exists(adapterDir))
            foreach (var f in Directory.GetFiles(adapterDir))
                if (Exportable(f) && !AdapterOnly.Contains(Path.GetFileName(f)) && sources.ContainsKey(Path.GetFileName(f))) sources[Path.GetFileName(f)] = f;
        foreach (var (name, source) in sources)
        {
            if (name == "config.json") continue;
            string target = Path.Combine(output, name);
            string from = source.StartsWith(baseDir, StringComparison.Ordinal) ? "input" : "adapter";
            if (!File.Exists(target))
            {
                CopyAtomic(source, target);
                report.Add(new Entry(name, $"copied from the {from}"));
            }
            else if (File.ReadAllBytes(target).AsSpan().SequenceEqual(File.ReadAllBytes(source)))
                report.Add(new Entry(name, $"identical to the {from}'s"));
            else
                report.Add(new Entry(name, $"differs from the {from}'s {source}", Problem: true));
        }
        if (!File.Exists(Path.Combine(output, "generation_config.json")))
        {
            WriteAtomic(Path.Combine(output, "generation_config.json"), DeriveGenerationConfig(Path.Combine(output, "config.json")));
            report.Add(new Entry("generation_config.json", "derived from config.json's token ids (the input had none)"));
        }
        report.AddRange(Requirements(output));
        return report;
    }

    private static Entry CheckConfig(string baseDir, string output)
    {
        string path = Path.Combine(output, "config.json");
        if (!File.Exists(path)) return new Entry("config.json", "missing", Problem: true);
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var input = JsonNode.Parse(File.ReadAllText(Path.Combine(baseDir, "config.json")))!.AsObject();
        var notes = new List<string>();
        string? type = config["model_type"]?.GetValue<string>();
        if (type is null || !Architectures.TryGetValue(type, out var arch))
            return new Entry("config.json", $"model_type \"{type}\" has no Vision2Seq architecture known here", Problem: true);
        var archs = config["architectures"] as JsonArray;
        if (archs is null || archs.Count != 1 || archs[0]?.GetValue<string>() != arch)
        {
            config["architectures"] = new JsonArray(arch);
            notes.Add($"architectures set to [{arch}]");
        }
        var changed = input.Select(kv => kv.Key).Union(config.Select(kv => kv.Key))
            .Where(k => k is not ("torch_dtype" or "quantization_config" or "architectures"))
            .Where(k => !JsonNode.DeepEquals(input[k], config[k])).ToList();
        if (changed.Count > 0) return new Entry("config.json", $"differs from the input's in {string.Join(", ", changed)}", Problem: true);
        if (notes.Count > 0) WriteAtomic(path, config.ToJsonString(new() { WriteIndented = true }) + "\n");
        return new Entry("config.json", notes.Count > 0 ? string.Join("; ", notes) : $"architectures [{arch}], model_type {type}; same as the input's but torch_dtype");
    }

    /// <summary>What AutoProcessor / AutoTokenizer read for an Idefics3 / SmolVLM processor.</summary>
    private static IEnumerable<Entry> Requirements(string output)
    {
        bool Has(string n) => File.Exists(Path.Combine(output, n));
        if (!Has("tokenizer.json") && !(Has("vocab.json") && Has("merges.txt")))
            yield return new Entry("tokenizer.json", "missing (nor vocab.json + merges.txt): AutoProcessor cannot build the tokenizer", Problem: true);
        foreach (var n in new[] { "tokenizer_config.json", "preprocessor_config.json" })
            if (!Has(n)) yield return new Entry(n, "missing: AutoProcessor needs it", Problem: true);
        bool template = Has("chat_template.json") || Has("chat_template.jinja")
            || (Has("tokenizer_config.json") && JsonNode.Parse(File.ReadAllText(Path.Combine(output, "tokenizer_config.json")))?["chat_template"] is not null);
        if (!template) yield return new Entry("chat_template.json", "missing (no chat_template.jinja nor tokenizer_config.json chat_template): apply_chat_template will fail", Problem: true);
    }

    private static string DeriveGenerationConfig(string configPath)
    {
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        var text = config["text_config"] as JsonObject;
        var gen = new JsonObject { ["_from_model_config"] = true };
        foreach (var key in new[] { "bos_token_id", "eos_token_id", "pad_token_id" })
            if ((text?[key] ?? config[key]) is { } v) gen[key] = v.DeepClone();
        return gen.ToJsonString(new() { WriteIndented = true }) + "\n";
    }

    private static bool Exportable(string path)
    {
        string name = Path.GetFileName(path);
        return !name.StartsWith('.') && !NotCopied.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }

    private static void CopyAtomic(string source, string target)
    {
        string temp = target + ".tmp";
        File.Copy(source, temp, overwrite: true);
        File.Move(temp, target, overwrite: true);
    }

    private static void WriteAtomic(string target, string text)
    {
        string temp = target + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, target, overwrite: true);
    }
}
