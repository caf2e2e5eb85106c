using System.Text;
using System.Text.Json;
using VlmTune.Checkpoints.Json;

namespace VlmTune.Checkpoints.Peft;

/// <summary>
/// adapter_config.json of a PEFT LoRA adapter (peft tuners/lora/config.py LoraConfig + config.py PeftConfig; spec
/// finetune.md §2.2). Writing follows PeftConfigMixin.save_pretrained: json.dumps(indent=2, sort_keys=True), sets
/// written as lists, inference_mode forced to true. VlmTune writes a list target_modules sorted (PEFT's own order is a
/// set's, i.e. arbitrary), or a full-match regex string.
///
/// Reading is strict about what changes numerics: peft_type must be "LORA", and options VlmTune does not implement
/// (bias ≠ "none", lora_bias, fan_in_fan_out, rank/alpha patterns, layer replication, exclude_modules, …) are errors that
/// name the file and field. Unknown keys are ignored (newer PEFT versions add fields).
/// </summary>
public sealed record PeftAdapterConfig
{
    public const string FileName = "adapter_config.json";
    /// <summary>The PEFT release whose file format VlmTune follows (written as peft_version).</summary>
    public const string FormatPeftVersion = "0.17.0";
    public const string AllLinear = "all-linear";

    public string? TaskType { get; init; } = "CAUSAL_LM";
    public string? BaseModelNameOrPath { get; init; }
    public string? Revision { get; init; }
    public bool InferenceMode { get; init; } = true;
    public int R { get; init; } = 8;
    public double LoraAlpha { get; init; } = 8;
    public double LoraDropout { get; init; }
    /// <summary>target_modules as a list (exact name or "."-suffix match). Exactly one of this and <see cref="TargetModulesPattern"/> is set.</summary>
    public IReadOnlyList<string>? TargetModules { get; init; }
    /// <summary>target_modules as a string: a full-match regex, or "all-linear".</summary>
    public string? TargetModulesPattern { get; init; }
    public bool UseRslora { get; init; }
    public bool UseDora { get; init; }
    /// <summary>"true" (kaiming-uniform A), "gaussian", or whatever the file says (only matters for fresh adapters).</summary>
    public string InitLoraWeights { get; init; } = "true";
    public IReadOnlyList<string>? ModulesToSave { get; init; }
    public IReadOnlyList<int>? LayersToTransform { get; init; }
    public string PeftVersion { get; init; } = FormatPeftVersion;

    /// <summary>The file text (trailing newline-free, as PEFT writes it).</summary>
    public string ToJson()
    {
        if ((TargetModules == null) == (TargetModulesPattern == null))
            throw new InvalidOperationException("set exactly one of TargetModules and TargetModulesPattern");
        var o = new PythonJson.SortedObject
        {
            ["alpha_pattern"] = new PythonJson.SortedObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["bias"] = "none",
            ["exclude_modules"] = null,
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = InferenceMode,
            ["init_lora_weights"] = InitLoraWeights switch { "true" => true, "false" => false, var s => s },
            ["layer_replication"] = null,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = LayersToTransform?.Select(i => (object?)(long)i).ToList(),
            ["loftq_config"] = new PythonJson.SortedObject(),
            ["lora_alpha"] = Math.Floor(LoraAlpha) == LoraAlpha && Math.Abs(LoraAlpha) < 1e15 ? (object)(long)LoraAlpha : LoraAlpha,
            ["lora_bias"] = false,
            ["lora_dropout"] = LoraDropout,
            ["megatron_config"] = null,
            ["megatron_core"] = "megatron.core",
            ["modules_to_save"] = ModulesToSave?.Select(s => (object?)s).ToList(),
            ["peft_type"] = "LORA",
            ["peft_version"] = PeftVersion,
            ["r"] = (long)R,
            ["rank_pattern"] = new PythonJson.SortedObject(),
            ["revision"] = Revision,
            ["target_modules"] = TargetModules != null ? TargetModules.Select(s => (object?)s).ToList() : TargetModulesPattern,
            ["target_parameters"] = null,
            ["task_type"] = TaskType,
            ["trainable_token_indices"] = null,
            ["use_dora"] = UseDora,
            ["use_rslora"] = UseRslora,
        };
        return PythonJson.Dumps(o);
    }

    public static PeftAdapterConfig Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path, Encoding.UTF8); }
        catch (FileNotFoundException e) { throw new PeftFormatException(path, null, "file not found (a PEFT adapter directory needs adapter_config.json)", e); }
        catch (DirectoryNotFoundException e) { throw new PeftFormatException(path, null, "file not found (a PEFT adapter directory needs adapter_config.json)", e); }
        return Parse(text, path);
    }

    public static PeftAdapterConfig Parse(string json, string sourcePath = FileName)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new PeftFormatException(sourcePath, null, $"not valid JSON ({e.Message})", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new PeftFormatException(sourcePath, null, "expected a JSON object");
            var r = new Reader(root, sourcePath);
            string peftType = r.String("peft_type") ?? throw r.Error("peft_type", "missing (expected \"LORA\")");
            if (peftType != "LORA") throw r.Error("peft_type", $"\"{peftType}\" is not supported; VlmTune reads LoRA/DoRA adapters (\"LORA\") only");

            r.Require("bias", e => e.ValueKind == JsonValueKind.Null || e.ValueKind == JsonValueKind.String && e.GetString() == "none", "only \"none\" is supported");
            foreach (string f in new[] { "lora_bias", "fan_in_fan_out", "use_qalora" })
                r.Require(f, e => e.ValueKind is JsonValueKind.False or JsonValueKind.Null, "true is not supported");
            foreach (string f in new[] { "rank_pattern", "alpha_pattern" })
                r.Require(f, e => e.ValueKind == JsonValueKind.Null || e.ValueKind == JsonValueKind.Object && !e.EnumerateObject().Any(), "per-module patterns are not supported (must be {})");
            foreach (string f in new[] { "layer_replication", "trainable_token_indices", "megatron_config", "alora_invocation_tokens" })
                r.Require(f, e => e.ValueKind == JsonValueKind.Null, "must be null (not supported)");
            foreach (string f in new[] { "exclude_modules", "target_parameters", "layers_pattern" })
                r.Require(f, IsEmpty, "must be null or empty (not supported)");

            var (names, pattern) = r.TargetModules();
            var dropout = r.Number("lora_dropout") ?? 0.0;
            if (!(dropout >= 0 && dropout < 1)) throw r.Error("lora_dropout", $"{dropout} is outside [0, 1)");
            int rank = r.Int("r") ?? 8;
            if (rank <= 0) throw r.Error("r", $"rank must be positive, got {rank}");
            double alpha = r.Number("lora_alpha") ?? 8;
            if (!(alpha > 0)) throw r.Error("lora_alpha", $"must be positive, got {alpha}");
            return new PeftAdapterConfig
            {
                TaskType = r.String("task_type"),
                BaseModelNameOrPath = r.String("base_model_name_or_path"),
                Revision = r.String("revision"),
                InferenceMode = r.Bool("inference_mode") ?? true,
                R = rank,
                LoraAlpha = alpha,
                LoraDropout = dropout,
                TargetModules = names,
                TargetModulesPattern = pattern,
                UseRslora = r.Bool("use_rslora") ?? false,
                UseDora = r.Bool("use_dora") ?? false,
                InitLoraWeights = r.InitWeights(),
                ModulesToSave = r.StringList("modules_to_save"),
                LayersToTransform = r.Layers(),
                PeftVersion = r.String("peft_version") ?? "unknown",
            };
        }
    }

    static bool IsEmpty(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => true,
        JsonValueKind.Array => e.GetArrayLength() == 0,
        JsonValueKind.String => e.GetString()!.Length == 0,
        _ => false,
    };

    /// <summary>Typed access to the root object with errors naming file and field.</summary>
    sealed class Reader(JsonElement root, string path)
    {
        public PeftFormatException Error(string field, string detail) => new(path, field, detail);

        bool TryGet(string field, out JsonElement e) => root.TryGetProperty(field, out e) && e.ValueKind != JsonValueKind.Null;

        public void Require(string field, Func<JsonElement, bool> ok, string detail)
        {
            if (root.TryGetProperty(field, out var e) && !ok(e)) throw Error(field, $"{e.GetRawText()}: {detail}");
        }

        public string? String(string field)
        {
            if (!TryGet(field, out var e)) return null;
            return e.ValueKind == JsonValueKind.String ? e.GetString() : throw Error(field, $"expected a string, got {e.GetRawText()}");
        }

        public bool? Bool(string field)
        {
            if (!TryGet(field, out var e)) return null;
            return e.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(field, $"expected true or false, got {e.GetRawText()}"),
            };
        }

        public double? Number(string field)
        {
            if (!TryGet(field, out var e)) return null;
            return e.ValueKind == JsonValueKind.Number ? e.GetDouble() : throw Error(field, $"expected a number, got {e.GetRawText()}");
        }

        public int? Int(string field)
        {
            if (!TryGet(field, out var e)) return null;
            return e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : throw Error(field, $"expected an integer, got {e.GetRawText()}");
        }

        public IReadOnlyList<string>? StringList(string field)
        {
            if (!TryGet(field, out var e)) return null;
            if (e.ValueKind != JsonValueKind.Array) throw Error(field, $"expected a list of strings, got {e.GetRawText()}");
            var list = new List<string>();
            foreach (var item in e.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String || item.GetString()!.Length == 0)
                    throw Error(field, $"item {list.Count} is {item.GetRawText()}, expected a non-empty string");
                list.Add(item.GetString()!);
            }
            return list;
        }

        public (IReadOnlyList<string>?, string?) TargetModules()
        {
            if (!TryGet("target_modules", out var e))
                throw Error("target_modules", "missing; VlmTune needs the adapted module names (a list, a regex string or \"all-linear\")");
            if (e.ValueKind == JsonValueKind.String)
            {
                string s = e.GetString()!;
                return s.Length == 0 ? throw Error("target_modules", "empty string") : (null, s);
            }
            var list = StringList("target_modules")!;
            return list.Count == 0 ? throw Error("target_modules", "empty list") : (list, null);
        }

        public string InitWeights()
        {
            if (!TryGet("init_lora_weights", out var e)) return "true";
            return e.ValueKind switch
            {
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.String => e.GetString()!,
                _ => throw Error("init_lora_weights", $"expected a bool or a string, got {e.GetRawText()}"),
            };
        }

        public IReadOnlyList<int>? Layers()
        {
            if (!TryGet("layers_to_transform", out var e)) return null;
            if (e.ValueKind == JsonValueKind.Number) return [Int("layers_to_transform")!.Value];
            if (e.ValueKind != JsonValueKind.Array) throw Error("layers_to_transform", $"expected an integer or a list of integers, got {e.GetRawText()}");
            var list = new List<int>();
            foreach (var item in e.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int v) || v < 0)
                    throw Error("layers_to_transform", $"item {list.Count} is {item.GetRawText()}, expected a layer index ≥ 0");
                list.Add(v);
            }
            return list;
        }
    }
}
