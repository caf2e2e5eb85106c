using VlmTune.Tensors;

namespace VlmTune.Nn;

/// <summary>LayerNorm over the last axis with f32 weight and bias.</summary>
public sealed class LayerNorm(Tensor weight, Tensor bias, float eps)
{
    public Tensor Weight { get; } = weight;
    public Tensor Bias { get; } = bias;
    public Tensor Forward(Tensor x) => Ops.LayerNorm(x, Weight, Bias, eps);
}
