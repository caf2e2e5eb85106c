using VlmTune.Tensors;

namespace VlmTune.Nn;

/// <summary>Something that adds to a linear layer's output given its input (LoRA, DoRA ...).</summary>
public interface ILinearAdapter
{
    /// <summary>Returns the adapted output from the layer input x (..., in) and the base output (..., out).</summary>
    Tensor Forward(Linear layer, Tensor x, Tensor baseOutput);
}

/// <summary>y = x·Wᵀ + b with W (out, in) in f32 or bf16; an optional adapter hooks the output.</summary>
public sealed class Linear(string name, Tensor weight, Tensor? bias)
{
    public string Name { get; } = name;
    public Tensor Weight { get; set; } = weight;
    public Tensor? Bias { get; set; } = bias;
    public ILinearAdapter? Adapter { get; set; }
    public int InFeatures => Weight.Shape[1];
    public int OutFeatures => Weight.Shape[0];

    public Tensor Forward(Tensor x)
    {
        var y = Ops.Linear(x, Weight, Bias);
        return Adapter == null ? y : Adapter.Forward(this, x, y);
    }
}

/// <summary>LayerNorm over the last axis with f32 weight and bias.</summary>
public sealed class LayerNorm(Tensor weight, Tensor bias, float eps)
{
    public Tensor Weight { get; } = weight;
    public Tensor Bias { get; } = bias;
    public Tensor Forward(Tensor x) => Ops.LayerNorm(x, Weight, Bias, eps);
}

/// <summary>RMSNorm over the last axis (HF Llama semantics).</summary>
public sealed class RmsNorm(Tensor weight, float eps)
{
    public Tensor Weight { get; } = weight;
    public Tensor Forward(Tensor x) => Ops.RmsNorm(x, Weight, eps);
}
