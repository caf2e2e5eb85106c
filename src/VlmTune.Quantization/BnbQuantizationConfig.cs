using System.Text.Json;
using System.Text.Json.Nodes;

namespace VlmTune.Quantization;

/// <summary>
/// The <c>quantization_config</c> block transformers writes into config.json for a bitsandbytes 4-bit model
/// (transformers utils/quantization_config.py BitsAndBytesConfig.to_dict: the instance __dict__ with the dtypes as
/// names, plus load_in_4bit / load_in_8bit; PretrainedConfig writes config.json with sorted keys).
/// Defaults here are the QLoRA ones (nf4, double quant, bf16 compute), not transformers' own (fp4, no DQ, f32).
/// </summary>
public sealed record BnbQuantizationConfig
{
    public QuantType QuantType { get; init; } = QuantType.Nf4;
    public bool DoubleQuant { get; init; } = true;
    /// <summary>torch dtype name of the compute dtype ("bfloat16", "float16", "float32").</summary>
    public string ComputeDtype { get; init; } = "bfloat16";
    /// <summary>torch dtype name of the packed storage; bitsandbytes' default "uint8".</summary>
    public string QuantStorage { get; init; } = "uint8";
    /// <summary>Modules left unquantised (llm_int8_skip_modules), e.g. ["lm_head"]; null writes null.</summary>
    public IReadOnlyList<string>? SkipModules { get; init; }

    /// <summary>The block as a JSON object with keys in sorted order.</summary>
    public JsonObject ToJsonObject()
    {
        JsonArray? skip = SkipModules is null ? null : new JsonArray([.. SkipModules.Select(s => (JsonNode?)JsonValue.Create(s))]);
        return new JsonObject
        {
            ["_load_in_4bit"] = true,
            ["_load_in_8bit"] = false,
            ["bnb_4bit_compute_dtype"] = ComputeDtype,
            ["bnb_4bit_quant_storage"] = QuantStorage,
            ["bnb_4bit_quant_type"] = Bnb4BitFormat.TypeName(QuantType),
            ["bnb_4bit_use_double_quant"] = DoubleQuant,
            ["llm_int8_enable_fp32_cpu_offload"] = false,
            ["llm_int8_has_fp16_weight"] = false,
            ["llm_int8_skip_modules"] = skip,
            ["llm_int8_threshold"] = 6.0,
            ["load_in_4bit"] = true,
            ["load_in_8bit"] = false,
            ["quant_method"] = "bitsandbytes",
        };
    }

    /// <summary>Indented JSON (2 spaces), the shape config.json uses.</summary>
    public string ToJson() => ToJsonObject().ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>
    /// Reads a quantization_config object. Requires quant_method "bitsandbytes" and load_in_4bit true; missing bnb_4bit_*
    /// keys take transformers' defaults (fp4, no double quant, float32 compute, uint8 storage).
    /// </summary>
    public static BnbQuantizationConfig FromJson(JsonNode? node, string where = "quantization_config")
    {
        if (node is not JsonObject o) throw new QuantizationFormatException($"{where}: expected a JSON object");
        string method = GetString(o, where, "quant_method") ?? throw new QuantizationFormatException($"{where}: missing quant_method");
        if (method != "bitsandbytes") throw new QuantizationFormatException($"{where}: quant_method \"{method}\" is not \"bitsandbytes\"");
        bool load4 = GetBool(o, where, "load_in_4bit") ?? GetBool(o, where, "_load_in_4bit") ?? false;
        if (!load4) throw new QuantizationFormatException($"{where}: load_in_4bit is not true (8-bit checkpoints are not supported)");
        string typeName = GetString(o, where, "bnb_4bit_quant_type") ?? "fp4";
        QuantType type = typeName switch
        {
            "nf4" => QuantType.Nf4,
            "fp4" => QuantType.Fp4,
            _ => throw new QuantizationFormatException($"{where}: bnb_4bit_quant_type \"{typeName}\" is not nf4 or fp4"),
        };
        List<string>? skip = null;
        if (o["llm_int8_skip_modules"] is JsonArray arr)
        {
            skip = [];
            foreach (var item in arr)
                skip.Add(item is JsonValue v && v.TryGetValue(out string? s) ? s : throw new QuantizationFormatException($"{where}: llm_int8_skip_modules holds a non-string entry"));
        }
        return new BnbQuantizationConfig
        {
            QuantType = type,
            DoubleQuant = GetBool(o, where, "bnb_4bit_use_double_quant") ?? false,
            ComputeDtype = GetString(o, where, "bnb_4bit_compute_dtype") ?? "float32",
            QuantStorage = GetString(o, where, "bnb_4bit_quant_storage") ?? "uint8",
            SkipModules = skip,
        };
    }

    private static string? GetString(JsonObject o, string where, string key)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        return n is JsonValue v && v.TryGetValue(out string? s) ? s : throw new QuantizationFormatException($"{where}: {key} is not a string");
    }

    private static bool? GetBool(JsonObject o, string where, string key)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        return n is JsonValue v && v.TryGetValue(out bool b) ? b : throw new QuantizationFormatException($"{where}: {key} is not a boolean");
    }
}
