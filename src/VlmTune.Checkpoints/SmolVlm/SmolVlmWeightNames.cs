namespace VlmTune.Checkpoints.SmolVlm;

/// <summary>
/// Every tensor a SmolVLM / Idefics3 checkpoint stores, with its shape, in HF key naming (spec smolvlm.md §3.1).
/// Linear weights are [out, in]. For SmolVLM-256M this yields 471 tensors and 256,484,928 parameters.
///
/// Legend: D_v vision hidden, I_v vision MLP width, C channels, P patch, S = G² patches per tile, r scale factor,
/// D_t text hidden, I_t text MLP width, H heads, KV kv heads, hd head_dim, V vocab.
/// </summary>
public static class SmolVlmWeightNames
{
    public const string VisionPrefix = "model.vision_model.";
    public const string ConnectorWeight = "model.connector.modality_projection.proj.weight";
    public const string TextPrefix = "model.text_model.";
    public const string LmHeadWeight = "lm_head.weight";

    private const string NestedTextPrefix = "model.text_model.model.";
    private const string NestedLmHead = "model.text_model.lm_head.";

    /// <summary>(name, shape) for every stored tensor, vision → connector → text → lm_head (omitted when tied).</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Enumerate(SmolVlmConfig config)
    {
        var v = config.Vision;
        var t = config.Text;
        var list = new List<(string, long[])>();
        long dv = v.HiddenSize, iv = v.IntermediateSize, p = v.PatchSize;

        const string emb = VisionPrefix + "embeddings.";
        list.Add((emb + "patch_embedding.weight", [dv, v.NumChannels, p, p]));   // (D_v, C, P, P)
        list.Add((emb + "patch_embedding.bias", [dv]));
        list.Add((emb + "position_embedding.weight", [v.PatchesPerTile, dv]));    // (S, D_v)
        for (int i = 0; i < v.NumHiddenLayers; i++)
        {
            string l = $"{VisionPrefix}encoder.layers.{i}.";
            list.Add((l + "layer_norm1.weight", [dv]));
            list.Add((l + "layer_norm1.bias", [dv]));
            foreach (string proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
            {
                list.Add((l + $"self_attn.{proj}.weight", [dv, dv]));
                list.Add((l + $"self_attn.{proj}.bias", [dv]));
            }
            list.Add((l + "layer_norm2.weight", [dv]));
            list.Add((l + "layer_norm2.bias", [dv]));
            list.Add((l + "mlp.fc1.weight", [iv, dv]));                            // (I_v, D_v)
            list.Add((l + "mlp.fc1.bias", [iv]));
            list.Add((l + "mlp.fc2.weight", [dv, iv]));                            // (D_v, I_v)
            list.Add((l + "mlp.fc2.bias", [dv]));
        }
        list.Add((VisionPrefix + "post_layernorm.weight", [dv]));
        list.Add((VisionPrefix + "post_layernorm.bias", [dv]));

        long dt = t.HiddenSize, it = t.IntermediateSize, q = t.QueryDim, kv = t.KeyValueDim;
        list.Add((ConnectorWeight, [dt, config.ConnectorInputDim]));               // (D_t, r²·D_v)

        list.Add((TextPrefix + "embed_tokens.weight", [t.VocabSize, dt]));        // (V, D_t)
        for (int i = 0; i < t.NumHiddenLayers; i++)
        {
            string l = $"{TextPrefix}layers.{i}.";
            list.Add((l + "input_layernorm.weight", [dt]));
            AddLinear(list, l + "self_attn.q_proj", q, dt, t.AttentionBias);      // (H·hd, D_t)
            AddLinear(list, l + "self_attn.k_proj", kv, dt, t.AttentionBias);     // (KV·hd, D_t)
            AddLinear(list, l + "self_attn.v_proj", kv, dt, t.AttentionBias);
            AddLinear(list, l + "self_attn.o_proj", dt, q, t.AttentionBias);      // (D_t, H·hd)
            list.Add((l + "post_attention_layernorm.weight", [dt]));
            AddLinear(list, l + "mlp.gate_proj", it, dt, t.MlpBias);              // (I_t, D_t)
            AddLinear(list, l + "mlp.up_proj", it, dt, t.MlpBias);
            AddLinear(list, l + "mlp.down_proj", dt, it, t.MlpBias);              // (D_t, I_t)
        }
        list.Add((TextPrefix + "norm.weight", [dt]));
        if (!config.LmHeadTied)
            list.Add((LmHeadWeight, [t.VocabSize, dt]));                          // (V, D_t)
        return list;
    }

    /// <summary>Total parameter count of <see cref="Enumerate"/>.</summary>
    public static long CountParameters(SmolVlmConfig config) =>
        Enumerate(config).Sum(e => e.Shape.Aggregate(1L, (a, d) => checked(a * d)));

    private static void AddLinear(List<(string, long[])> list, string prefix, long outFeatures, long inFeatures, bool bias)
    {
        list.Add((prefix + ".weight", [outFeatures, inFeatures]));
        if (bias) list.Add((prefix + ".bias", [outFeatures]));
    }

    /// <summary>
    /// Maps the text-model key variants some SmolVLM checkpoints use onto the canonical names above:
    /// "model.text_model.model.X" → "model.text_model.X" and "model.text_model.lm_head.X" → "lm_head.X"
    /// (spec smolvlm.md §3.2 caveat). Every other key is returned unchanged; the mapping is idempotent.
    /// </summary>
    public static string NormalizeKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.StartsWith(NestedTextPrefix, StringComparison.Ordinal))
            return TextPrefix + key[NestedTextPrefix.Length..];
        if (key.StartsWith(NestedLmHead, StringComparison.Ordinal))
            return "lm_head." + key[NestedLmHead.Length..];
        return key;
    }
}
