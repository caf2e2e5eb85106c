using VlmTune.Checkpoints.Json;

namespace VlmTune.Checkpoints.SmolVlm;

/// <summary>Maps config.json keys to <see cref="SmolVlmConfig"/> and back (the only place the HF key names live).</summary>
internal static class SmolVlmConfigJson
{
    public static SmolVlmConfig Read(ConfigJsonReader root)
    {
        string? modelType = root.NullableString("model_type", null);
        if (modelType is null)
            throw root.Error("model_type", "missing; expected \"idefics3\" or \"smolvlm\"");
        if (modelType is not (SmolVlmConfig.Idefics3ModelType or SmolVlmConfig.SmolVlmModelType))
            throw root.Error("model_type", $"unsupported model_type \"{modelType}\"; expected \"idefics3\" or \"smolvlm\"");

        var defaults = new SmolVlmConfig();
        int? padTokenId = root.NullableInt("pad_token_id", defaults.PadTokenId);
        var vision = root.Object("vision_config");
        var text = root.Object("text_config");
        string defaultVisionType = modelType == SmolVlmConfig.SmolVlmModelType ? "smolvlm_vision" : "idefics3_vision";

        return new SmolVlmConfig
        {
            ModelType = modelType,
            Architectures = ReadStringList(root, "architectures"),
            ImageTokenId = root.Int("image_token_id", defaults.ImageTokenId),
            ScaleFactor = root.Int("scale_factor", defaults.ScaleFactor),
            TieWordEmbeddings = root.Bool("tie_word_embeddings", defaults.TieWordEmbeddings),
            PadTokenId = padTokenId,
            UseCache = root.Bool("use_cache", defaults.UseCache),
            TorchDtype = root.NullableString("torch_dtype", null) ?? root.NullableString("dtype", null),
            Vision = vision is { } v ? ReadVision(v, defaultVisionType) : new SmolVlmVisionConfig { ModelType = defaultVisionType },
            // No text_config at all: the composite config builds LlamaConfig(rms_norm_eps=1e-5, pad_token_id=pad, tie=False).
            Text = text is { } t ? ReadText(t) : new SmolVlmTextConfig { RmsNormEps = 1e-5, PadTokenId = padTokenId },
        };
    }

    private static SmolVlmVisionConfig ReadVision(ConfigJsonReader r, string defaultType)
    {
        var d = new SmolVlmVisionConfig();
        return new SmolVlmVisionConfig
        {
            ModelType = r.String("model_type", defaultType),
            HiddenSize = r.Int("hidden_size", d.HiddenSize),
            IntermediateSize = r.Int("intermediate_size", d.IntermediateSize),
            NumHiddenLayers = r.Int("num_hidden_layers", d.NumHiddenLayers),
            NumAttentionHeads = r.Int("num_attention_heads", d.NumAttentionHeads),
            NumChannels = r.Int("num_channels", d.NumChannels),
            ImageSize = r.Int("image_size", d.ImageSize),
            PatchSize = r.Int("patch_size", d.PatchSize),
            HiddenAct = r.String("hidden_act", d.HiddenAct),
            LayerNormEps = r.Double("layer_norm_eps", d.LayerNormEps),
            AttentionDropout = r.Double("attention_dropout", d.AttentionDropout),
            InitializerRange = r.Double("initializer_range", d.InitializerRange),
        };
    }

    private static SmolVlmTextConfig ReadText(ConfigJsonReader r)
    {
        var d = new SmolVlmTextConfig();
        string modelType = r.String("model_type", "llama");
        if (modelType != "llama")
            throw r.Error("model_type", $"unsupported text model_type \"{modelType}\"; only \"llama\" decoders are supported");
        int hidden = r.Int("hidden_size", d.HiddenSize);
        int heads = r.Int("num_attention_heads", d.NumAttentionHeads);
        if (heads <= 0)
            throw r.Error("num_attention_heads", $"must be positive, found {heads}");
        return new SmolVlmTextConfig
        {
            ModelType = modelType,
            VocabSize = r.Int("vocab_size", d.VocabSize),
            HiddenSize = hidden,
            IntermediateSize = r.Int("intermediate_size", d.IntermediateSize),
            NumHiddenLayers = r.Int("num_hidden_layers", d.NumHiddenLayers),
            NumAttentionHeads = heads,
            NumKeyValueHeads = r.NullableInt("num_key_value_heads", null) ?? heads,
            HeadDim = r.NullableInt("head_dim", null) ?? hidden / heads,
            HiddenAct = r.String("hidden_act", d.HiddenAct),
            MaxPositionEmbeddings = r.Int("max_position_embeddings", d.MaxPositionEmbeddings),
            RmsNormEps = r.Double("rms_norm_eps", d.RmsNormEps),
            RopeTheta = ReadRopeTheta(r, d.RopeTheta),
            AttentionBias = r.Bool("attention_bias", d.AttentionBias),
            MlpBias = r.Bool("mlp_bias", d.MlpBias),
            TieWordEmbeddings = r.Bool("tie_word_embeddings", d.TieWordEmbeddings),
            BosTokenId = r.NullableInt("bos_token_id", d.BosTokenId),
            EosTokenId = r.NullableInt("eos_token_id", d.EosTokenId),
            PadTokenId = r.NullableInt("pad_token_id", d.PadTokenId),
            InitializerRange = r.Double("initializer_range", d.InitializerRange),
        };
    }

    /// <summary>
    /// rope_theta from the key itself (transformers 4.x) or from rope_parameters (5.x); any rope scaling other than
    /// "default" is refused, since the decoder implements plain RoPE only.
    /// </summary>
    private static double ReadRopeTheta(ConfigJsonReader r, double fallback)
    {
        double theta = r.Double("rope_theta", fallback);
        foreach (string key in new[] { "rope_scaling", "rope_parameters" })
        {
            if (r.Object(key) is not { } rope) continue;
            string type = rope.NullableString("rope_type", null) ?? rope.NullableString("type", null) ?? "default";
            if (type != "default")
                throw new ConfigException(r.File, rope.At("rope_type"), $"unsupported RoPE scaling \"{type}\"; only plain (\"default\") RoPE is implemented");
            if (rope.Has("rope_theta")) theta = rope.Double("rope_theta", theta);
        }
        return theta;
    }

    private static IReadOnlyList<string> ReadStringList(ConfigJsonReader r, string key)
    {
        if (!r.TryGet(key, out var v) || v.ValueKind == System.Text.Json.JsonValueKind.Null) return [];
        if (v.ValueKind != System.Text.Json.JsonValueKind.Array)
            throw r.Error(key, $"expected an array of strings, found {v.ValueKind.ToString().ToLowerInvariant()}");
        var list = new List<string>();
        int i = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != System.Text.Json.JsonValueKind.String)
                throw new ConfigException(r.File, $"{r.At(key)}[{i}]", $"expected a string, found {item.ValueKind.ToString().ToLowerInvariant()}");
            list.Add(item.GetString()!);
            i++;
        }
        return list;
    }

    public static PythonJson.SortedObject Write(SmolVlmConfig c)
    {
        var v = c.Vision;
        var t = c.Text;
        var vision = new PythonJson.SortedObject
        {
            ["model_type"] = v.ModelType,
            ["hidden_size"] = v.HiddenSize,
            ["intermediate_size"] = v.IntermediateSize,
            ["num_hidden_layers"] = v.NumHiddenLayers,
            ["num_attention_heads"] = v.NumAttentionHeads,
            ["num_channels"] = v.NumChannels,
            ["image_size"] = v.ImageSize,
            ["patch_size"] = v.PatchSize,
            ["hidden_act"] = v.HiddenAct,
            ["layer_norm_eps"] = v.LayerNormEps,
            ["attention_dropout"] = v.AttentionDropout,
            ["initializer_range"] = v.InitializerRange,
        };
        var text = new PythonJson.SortedObject
        {
            ["model_type"] = t.ModelType,
            ["vocab_size"] = t.VocabSize,
            ["hidden_size"] = t.HiddenSize,
            ["intermediate_size"] = t.IntermediateSize,
            ["num_hidden_layers"] = t.NumHiddenLayers,
            ["num_attention_heads"] = t.NumAttentionHeads,
            ["num_key_value_heads"] = t.NumKeyValueHeads,
            ["head_dim"] = t.HeadDim,
            ["hidden_act"] = t.HiddenAct,
            ["max_position_embeddings"] = t.MaxPositionEmbeddings,
            ["rms_norm_eps"] = t.RmsNormEps,
            ["rope_theta"] = t.RopeTheta,
            ["rope_scaling"] = null,
            ["attention_bias"] = t.AttentionBias,
            ["mlp_bias"] = t.MlpBias,
            ["tie_word_embeddings"] = t.TieWordEmbeddings,
            ["bos_token_id"] = t.BosTokenId,
            ["eos_token_id"] = t.EosTokenId,
            ["pad_token_id"] = t.PadTokenId,
            ["initializer_range"] = t.InitializerRange,
        };
        var root = new PythonJson.SortedObject
        {
            ["model_type"] = c.ModelType,
            ["image_token_id"] = c.ImageTokenId,
            ["scale_factor"] = c.ScaleFactor,
            ["tie_word_embeddings"] = c.TieWordEmbeddings,
            ["pad_token_id"] = c.PadTokenId,
            ["use_cache"] = c.UseCache,
            ["vision_config"] = vision,
            ["text_config"] = text,
        };
        if (c.Architectures.Count > 0) root["architectures"] = c.Architectures.Cast<object?>().ToList();
        if (c.TorchDtype is not null) root["torch_dtype"] = c.TorchDtype;
        return root;
    }
}
