using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Nn;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm;

/// <summary>One pre-LN encoder layer: h += out_proj(attn(LN1 h)); h += fc2(gelu_tanh(fc1(LN2 h))).</summary>
public sealed class VisionLayer
{
    readonly LayerNorm _ln1, _ln2;
    public Linear Q { get; }
    public Linear K { get; }
    public Linear V { get; }
    public Linear Out { get; }
    public Linear Fc1 { get; }
    public Linear Fc2 { get; }
    readonly int _heads, _headDim;

    public VisionLayer(WeightScope scope, SmolVlmVisionConfig cfg)
    {
        int d = cfg.HiddenSize;
        float eps = (float)cfg.LayerNormEps;
        _heads = cfg.NumAttentionHeads;
        _headDim = cfg.HeadDim;
        _ln1 = scope.LayerNorm("layer_norm1", d, eps);
        _ln2 = scope.LayerNorm("layer_norm2", d, eps);
        var attn = scope.Sub("self_attn");
        Q = attn.Linear("q_proj", d, d, true);
        K = attn.Linear("k_proj", d, d, true);
        V = attn.Linear("v_proj", d, d, true);
        Out = attn.Linear("out_proj", d, d, true);
        var mlp = scope.Sub("mlp");
        Fc1 = mlp.Linear("fc1", d, cfg.IntermediateSize, true);
        Fc2 = mlp.Linear("fc2", cfg.IntermediateSize, d, true);
    }

    public Tensor Forward(Tensor h, Tensor? keyMask)
    {
        var (n, s, d) = h.Shape.Dims3();
        var x = _ln1.Forward(h);
        Tensor Heads(Tensor y) => Ops.Transpose(Ops.Reshape(y, n, s, _heads, _headDim), 1, 2);
        var a = Ops.Attention(Heads(Q.Forward(x)), Heads(K.Forward(x)), Heads(V.Forward(x)), causal: false, keyMask: keyMask);
        h = Ops.Add(h, Out.Forward(Ops.Reshape(Ops.Transpose(a, 1, 2), n, s, d)));
        return Ops.Add(h, Fc2.Forward(Ops.GeluTanh(Fc1.Forward(_ln2.Forward(h)))));
    }
}
