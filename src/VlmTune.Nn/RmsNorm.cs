using VlmTune.Tensors;

namespace VlmTune.Nn;

/// <summary>RMSNorm over the last axis (HF Llama semantics).</summary>
public sealed class RmsNorm(Tensor weight, float eps)
{
    public Tensor Weight { get; } = weight;
    public Tensor Forward(Tensor x) => Ops.RmsNorm(x, Weight, eps);
}
