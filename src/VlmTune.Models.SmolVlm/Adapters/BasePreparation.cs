using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Quantization;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Adapters;

/// <summary>
/// How the base an adapter was trained against was prepared: the 4-bit quantisation (type, blocksize, double quant,
/// skipped modules; null for plain LoRA), the compute dtype, and a SHA-256 of the base checkpoint's tensors. Written by
/// the trainers as <see cref="FileName"/> beside the PEFT files (PEFT ignores unknown files, so it still loads the
/// adapter unchanged); generate / forward / eval / chat / merge rebuild exactly that base from it. An adapter without
/// the file (PEFT-made) runs on the checkpoint as loaded.
///
/// Hash: SHA-256 over the tensors in ordinal key order (normalised key, dtype, shape, bytes), so re-sharding or
/// re-saving the same weights keeps it; any changed weight changes it.
/// </summary>
public sealed record BasePreparation
{
    public const string FileName = "vlmtune_base.json";
    const string Format = "vlmtune-base-preparation";
    const int Version = 1;

    /// <summary>The QLoRA quantisation of the base in training; null when the adapter was trained on the unquantised base.</summary>
    public QuantizeSettings? Quantization { get; init; }
    public DType ComputeDType { get; init; } = DType.F32;
    /// <summary>Lower-case hex SHA-256 of the base checkpoint's tensors (see the class summary).</summary>
    public required string BaseWeightsSha256 { get; init; }
    /// <summary>The base checkpoint path as given in training (informational).</summary>
    public string? BaseModel { get; init; }
    /// <summary>
    /// The training run's rule for images that are not plain RGB, as the recipe spells it (data.non_rgb_images), so
    /// generate / eval / chat / forward see pixels as training did; null in files written before the key existed. Kept
    /// as written: the processing layer owns the spellings and checks them where the setting is used.
    /// </summary>
    public string? NonRgbImages { get; init; }

    /// <summary>One line for logs: "nf4, blocksize 128, double quant, compute f32" or "unquantised, compute f32".</summary>
    public string Describe() => (Quantization is { } q
        ? $"{Bnb4BitFormat.TypeName(q.Type)}, blocksize {q.Blocksize}, {(q.DoubleQuant ? "double quant" : "no double quant")}"
        : "unquantised") + $", compute {ComputeDType.Name()}";

    public static BasePreparation Describe(string modelDir, QuantizeSettings? quantization, DType computeDType) => new()
    {
        Quantization = quantization,
        ComputeDType = computeDType,
        BaseWeightsSha256 = HashWeights(modelDir),
        BaseModel = modelDir,
    };

    public static string HashWeights(string modelDir)
    {
        using var ckpt = SafeTensorsCheckpoint.Open(modelDir);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, name) in ckpt.Names.Select(n => (SmolVlmWeightNames.NormalizeKey(n), n)).OrderBy(p => p.Item1, StringComparer.Ordinal))
        {
            var info = ckpt.GetInfo(name);
            sha.AppendData(Encoding.UTF8.GetBytes($"{key}\n{info.DTypeName}\n{string.Join(",", info.Shape)}\n"));
            sha.AppendData(ckpt.GetBytes(name));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public void Save(string adapterDir)
    {
        var json = new JsonObject
        {
            ["format"] = Format,
            ["version"] = Version,
            ["quantization"] = Quantization is { } q ? new JsonObject
            {
                ["quant_type"] = Bnb4BitFormat.TypeName(q.Type),
                ["blocksize"] = q.Blocksize,
                ["double_quant"] = q.DoubleQuant,
                ["skip_modules"] = new JsonArray(q.Skip.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
            } : null,
            ["compute_dtype"] = TorchName(ComputeDType),
            ["base_weights_sha256"] = BaseWeightsSha256,
            ["base_model"] = BaseModel,
        };
        if (NonRgbImages != null) json["non_rgb_images"] = NonRgbImages;
        string path = Path.Combine(adapterDir, FileName), tmp = path + ".tmp";
        File.WriteAllText(tmp, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The adapter's record, or null when it has none (a PEFT-made adapter). A malformed file is an error naming it.</summary>
    public static BasePreparation? TryLoad(string adapterDir)
    {
        string path = Path.Combine(adapterDir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw Bad("not a JSON object");
            if ((string?)root["format"] != Format) throw Bad($"format must be \"{Format}\"");
            if ((int?)root["version"] != Version) throw Bad($"version {root["version"]?.ToJsonString() ?? "missing"} is not supported (expected {Version})");
            QuantizeSettings? q = null;
            if (root["quantization"] is JsonObject qo)
            {
                q = new QuantizeSettings
                {
                    Type = (string?)qo["quant_type"] switch
                    {
                        "nf4" => QuantType.Nf4,
                        "fp4" => QuantType.Fp4,
                        var t => throw Bad($"quantization.quant_type \"{t}\" is not nf4 or fp4"),
                    },
                    Blocksize = (int?)qo["blocksize"] ?? throw Bad("quantization.blocksize is missing"),
                    DoubleQuant = (bool?)qo["double_quant"] ?? throw Bad("quantization.double_quant is missing"),
                    Skip = qo["skip_modules"] is JsonArray skip ? skip.Select(s => (string?)s ?? throw Bad("quantization.skip_modules holds a non-string")).ToList() : ["lm_head"],
                };
                try { q.Validate(); }
                catch (ArgumentOutOfRangeException) { throw Bad($"quantization.blocksize {q.Blocksize} is not a power of two from 32 to 4096"); }
            }
            return new BasePreparation
            {
                Quantization = q,
                ComputeDType = (string?)root["compute_dtype"] switch
                {
                    "float32" => DType.F32,
                    "bfloat16" => DType.BF16,
                    var d => throw Bad($"compute_dtype \"{d}\" is not float32 or bfloat16"),
                },
                BaseWeightsSha256 = (string?)root["base_weights_sha256"] ?? throw Bad("base_weights_sha256 is missing"),
                BaseModel = (string?)root["base_model"],
                NonRgbImages = (string?)root["non_rgb_images"],
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: {e.Message}");
        }

        InvalidDataException Bad(string what) => new($"{path}: {what}");
    }

    static string TorchName(DType d) => d == DType.BF16 ? "bfloat16" : "float32";
}
