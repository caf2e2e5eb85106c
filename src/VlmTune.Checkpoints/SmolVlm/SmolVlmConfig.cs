using System.Text.Json;
using VlmTune.Checkpoints.Json;

namespace VlmTune.Checkpoints.SmolVlm;

/// <summary>
/// A SmolVLM / Idefics3 model config (HF config.json with model_type "idefics3" or "smolvlm"), class defaults applied
/// to absent keys exactly as transformers does (spec smolvlm.md §1, errata §9), plus derived values.
///
/// Shapes (legend): D_v = vision hidden, G = patches per side, r = scale factor, D_t = text hidden.
/// The connector maps r²·D_v → D_t; each tile becomes G²/r² image tokens.
/// </summary>
public sealed partial record SmolVlmConfig
{
    public const string Idefics3ModelType = "idefics3";
    public const string SmolVlmModelType = "smolvlm";

    /// <summary>"idefics3" (SmolVLM-256M/500M/Instruct) or "smolvlm" (SmolVLM2).</summary>
    public string ModelType { get; init; } = Idefics3ModelType;

    /// <summary>The config's architectures list, e.g. ["Idefics3ForConditionalGeneration"]; empty when absent.</summary>
    public IReadOnlyList<string> Architectures { get; init; } = [];

    /// <summary>Id of the &lt;image&gt; token whose embeddings are replaced by image features (class default 128257).</summary>
    public int ImageTokenId { get; init; } = 128257;

    /// <summary>Pixel-shuffle factor r (class default 2).</summary>
    public int ScaleFactor { get; init; } = 2;

    /// <summary>Top-level tie_word_embeddings (class default false). lm_head tying follows <see cref="SmolVlmTextConfig.TieWordEmbeddings"/>.</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Top-level pad_token_id (class default 128002; not used by the model).</summary>
    public int? PadTokenId { get; init; } = 128002;

    public bool UseCache { get; init; } = true;

    /// <summary>Storage dtype the checkpoint declares ("bfloat16", ...) from torch_dtype or dtype; null when absent.</summary>
    public string? TorchDtype { get; init; }

    public SmolVlmVisionConfig Vision { get; init; } = new();

    public SmolVlmTextConfig Text { get; init; } = new() { RmsNormEps = 1e-5, PadTokenId = 128002 };

    /// <summary>Image tokens per tile: int((image_size / patch)² / r²) (Idefics3Model.__init__).</summary>
    public int ImageSeqLen => Vision.PatchesPerTile / (ScaleFactor * ScaleFactor);

    /// <summary>Connector input width r²·D_v.</summary>
    public int ConnectorInputDim => Vision.HiddenSize * ScaleFactor * ScaleFactor;

    /// <summary>True when lm_head shares embed_tokens' weights (then no lm_head.weight is stored).</summary>
    public bool LmHeadTied => Text.TieWordEmbeddings;

    /// <summary>Reads <c>config.json</c> from <paramref name="directory"/> (or the file itself when given a file path).</summary>
    public static SmolVlmConfig Load(string directory)
    {
        string path = File.Exists(directory) ? Path.GetFullPath(directory) : Path.Combine(Path.GetFullPath(directory), "config.json");
        if (!File.Exists(path))
            throw new FileNotFoundException($"model config not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses config JSON text; <paramref name="sourceName"/> names it in errors.</summary>
    public static SmolVlmConfig Parse(string json, string sourceName = "config.json")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException ex)
        {
            throw new ConfigException(sourceName, "$", $"not well-formed JSON ({ex.Message})", ex);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ConfigException(sourceName, "$", "config must be a JSON object");
            var config = SmolVlmConfigJson.Read(new ConfigJsonReader(doc.RootElement, sourceName, "$"));
            config.Validate(sourceName);
            return config;
        }
    }

    /// <summary>
    /// Checks the values fit together (divisibility of heads and of the patch grid by the pixel shuffle; positive sizes).
    /// Throws <see cref="ConfigException"/> naming <paramref name="sourceName"/> and the offending path.
    /// </summary>
    public void Validate(string sourceName = "config")
    {
        void Positive(int value, string path)
        {
            if (value <= 0) throw new ConfigException(sourceName, path, $"must be positive, found {value}");
        }
        Positive(Vision.HiddenSize, "$.vision_config.hidden_size");
        Positive(Vision.IntermediateSize, "$.vision_config.intermediate_size");
        Positive(Vision.NumHiddenLayers, "$.vision_config.num_hidden_layers");
        Positive(Vision.NumAttentionHeads, "$.vision_config.num_attention_heads");
        Positive(Vision.NumChannels, "$.vision_config.num_channels");
        Positive(Vision.ImageSize, "$.vision_config.image_size");
        Positive(Vision.PatchSize, "$.vision_config.patch_size");
        Positive(ScaleFactor, "$.scale_factor");
        Positive(Text.VocabSize, "$.text_config.vocab_size");
        Positive(Text.HiddenSize, "$.text_config.hidden_size");
        Positive(Text.IntermediateSize, "$.text_config.intermediate_size");
        Positive(Text.NumHiddenLayers, "$.text_config.num_hidden_layers");
        Positive(Text.NumAttentionHeads, "$.text_config.num_attention_heads");
        Positive(Text.NumKeyValueHeads, "$.text_config.num_key_value_heads");
        Positive(Text.HeadDim, "$.text_config.head_dim");
        if (Vision.HiddenSize % Vision.NumAttentionHeads != 0)
            throw new ConfigException(sourceName, "$.vision_config.num_attention_heads",
                $"hidden_size {Vision.HiddenSize} is not divisible by {Vision.NumAttentionHeads} heads");
        // image_size need not be a multiple of patch_size: the 2.2B model uses 384 / 14 → 27 patches (valid conv, floor).
        if (Vision.PatchesPerSide == 0)
            throw new ConfigException(sourceName, "$.vision_config.patch_size",
                $"patch_size {Vision.PatchSize} is larger than image_size {Vision.ImageSize}");
        if (Vision.PatchesPerSide % ScaleFactor != 0)
            throw new ConfigException(sourceName, "$.scale_factor",
                $"{Vision.PatchesPerSide} patches per side are not divisible by scale_factor {ScaleFactor} (pixel shuffle needs whole blocks)");
        if (Text.NumAttentionHeads % Text.NumKeyValueHeads != 0)
            throw new ConfigException(sourceName, "$.text_config.num_key_value_heads",
                $"{Text.NumAttentionHeads} attention heads are not divisible by {Text.NumKeyValueHeads} key/value heads");
        if (Text.HeadDim % 2 != 0)
            throw new ConfigException(sourceName, "$.text_config.head_dim", $"head_dim {Text.HeadDim} must be even for rotary embeddings");
    }

    /// <summary>
    /// The config as HF writes config.json: json.dumps(indent=2, sort_keys=True) + "\n", every field explicit
    /// (so a loader with other defaults reads the same model). <see cref="Parse"/> of the result gives back this config.
    /// </summary>
    public string ToJson() => PythonJson.Dumps(SmolVlmConfigJson.Write(this)) + "\n";
}
