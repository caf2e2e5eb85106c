using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Nn;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm;

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
