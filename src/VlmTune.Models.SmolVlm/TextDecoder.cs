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

    /// <summary>
    /// h (B, L, D) → hidden (B, L, D) after the final norm. positions: (L) or (B, L) i64; keyMask: (B, P+L) or null;
    /// cache: appended to when given.
    /// </summary>
    public Tensor Forward(Tensor h, Tensor positions, Tensor? keyMask, KvCache? cache)
    {
        for (int i = 0; i < _layers.Length; i++) h = _layers[i].Forward(h, positions, keyMask, cache, i);
        return _norm.Forward(h);
    }
}

/// <summary>One Llama layer: h += o_proj(attn(RMSNorm h)); h += down(silu(gate(x)) ⊙ up(x)), x = RMSNorm h.</summary>
public sealed class DecoderLayer
{
    readonly SmolVlmTextConfig _cfg;
    readonly RmsNorm _inputNorm, _postNorm;
    public Linear Q { get; }
    public Linear K { get; }
    public Linear V { get; }
    public Linear O { get; }
    public Linear Gate { get; }
    public Linear Up { get; }
    public Linear Down { get; }

    public DecoderLayer(WeightScope scope, SmolVlmTextConfig cfg)
    {
        _cfg = cfg;
        int d = cfg.HiddenSize;
        float eps = (float)cfg.RmsNormEps;
        _inputNorm = scope.RmsNorm("input_layernorm", d, eps);
        _postNorm = scope.RmsNorm("post_attention_layernorm", d, eps);
        var attn = scope.Sub("self_attn");
        Q = attn.Linear("q_proj", d, cfg.QueryDim, cfg.AttentionBias);
        K = attn.Linear("k_proj", d, cfg.KeyValueDim, cfg.AttentionBias);
        V = attn.Linear("v_proj", d, cfg.KeyValueDim, cfg.AttentionBias);
        O = attn.Linear("o_proj", cfg.QueryDim, d, cfg.AttentionBias);
        var mlp = scope.Sub("mlp");
        Gate = mlp.Linear("gate_proj", d, cfg.IntermediateSize, cfg.MlpBias);
        Up = mlp.Linear("up_proj", d, cfg.IntermediateSize, cfg.MlpBias);
        Down = mlp.Linear("down_proj", cfg.IntermediateSize, d, cfg.MlpBias);
    }

    public Tensor Forward(Tensor h, Tensor positions, Tensor? keyMask, KvCache? cache, int index)
    {
        var (b, l, d) = h.Shape.Dims3();
        int hd = _cfg.HeadDim;
        float theta = (float)_cfg.RopeTheta;
        var x = _inputNorm.Forward(h);
        Tensor Heads(Tensor y, int heads) => Ops.Transpose(Ops.Reshape(y, b, l, heads, hd), 1, 2);
        var q = Ops.Rope(Heads(Q.Forward(x), _cfg.NumAttentionHeads), positions, theta);
        var k = Ops.Rope(Heads(K.Forward(x), _cfg.NumKeyValueHeads), positions, theta);
        var v = Heads(V.Forward(x), _cfg.NumKeyValueHeads);
        int past = 0;
        if (cache != null) (k, v, past) = cache.Append(index, k, v);
        var a = Ops.Attention(q, k, v, causal: true, qOffset: past, keyMask: keyMask);
        h = Ops.Add(h, O.Forward(Ops.Reshape(Ops.Transpose(a, 1, 2), b, l, _cfg.QueryDim)));
        x = _postNorm.Forward(h);
        return Ops.Add(h, Down.Forward(Ops.SwiGlu(Gate.Forward(x), Up.Forward(x))));
    }
}
