using VlmTune.Tensors;

namespace VlmTune.Nn;

/// <summary>Something that adds to a linear layer's output given its input (LoRA, DoRA ...).</summary>
public interface ILinearAdapter
{
    /// <summary>Returns the adapted output from the layer input x (..., in) and the base output (..., out).</summary>
    Tensor Forward(Linear layer, Tensor x, Tensor baseOutput);
}
