using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Nn;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm;

/// <summary>
/// Llama decoder (spec smolvlm.md §2.7). Legend: B batch, L new tokens, P past (cached) tokens, D text width,
/// H query heads, KV kv heads, hd head size, V vocabulary. Causal attention with GQA, RoPE (θ from config, not
/// interleaved), RMSNorm (eps from config), SwiGLU MLP, final norm, untied lm_head (tied when the config says so).
/// </summary>
public sealed class TextDecoder
{
    readonly SmolVlmTextConfig _cfg;
    public Tensor EmbedTokens { get; }        // (V, D)
    readonly DecoderLayer[] _layers;
    readonly RmsNorm _norm;
    public Linear LmHead { get; }

    public TextDecoder(WeightScope text, WeightScope root, SmolVlmTextConfig cfg, bool tied)
    {
        _cfg = cfg;
        EmbedTokens = text.Sub("embed_tokens").Get("weight", new Shape(cfg.VocabSize, cfg.HiddenSize));
        _layers = Enumerable.Range(0, cfg.NumHiddenLayers).Select(i => new DecoderLayer(text.Sub($"layers.{i}"), cfg)).ToArray();
        _norm = text.RmsNorm("norm", cfg.HiddenSize, (float)cfg.RmsNormEps);
        LmHead = tied ? new Linear("lm_head", EmbedTokens, null) : root.Linear("lm_head", cfg.HiddenSize, cfg.VocabSize, false);
    }

    public IReadOnlyList<DecoderLayer> Layers => _layers;

    /// <summary>Recompute each layer in the backward pass instead of keeping its activations (training only).</summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>
    /// h (B, L, D) → hidden (B, L, D) after the final norm. positions: (L) or (B, L) i64; keyMask: (B, P+L) or null;
    /// cache: appended to when given.
    /// </summary>
    public Tensor Forward(Tensor h, Tensor positions, Tensor? keyMask, KvCache? cache)
    {
        bool recompute = GradientCheckpointing && cache == null && Tensors.Autograd.GradMode.IsEnabled;
        for (int i = 0; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            int index = i;
            h = recompute
                ? Tensors.Autograd.Checkpoint.Run(a => layer.Forward(a[0], positions, keyMask, null, index), h)
                : layer.Forward(h, positions, keyMask, cache, i);
        }
        return _norm.Forward(h);
    }
}

