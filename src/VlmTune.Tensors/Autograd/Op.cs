namespace VlmTune.Tensors.Autograd;

/// <summary>
/// The closed set of differentiable operations. Every member has exactly one derivative rule in
/// <see cref="Backward"/>. Primitives first, then the fused tier.
/// </summary>
public enum Op : byte
{
    // elementwise and broadcasting
    Add, Sub, Mul, Div, Unary,
    // movement (views or copies)
    Reshape, Permute, Narrow, Expand, Contiguous, Concat, ToDType,
    // reductions
    Sum,
    // matmul
    MatMul, Linear, Linear4Bit,
    // indexing
    Embedding, Gather,
    // fused tier
    LayerNorm, RmsNorm, Softmax, LogSoftmax, Attention, Rope, LabelLogProbs, Dropout,
    // recompute-in-backward region
    Checkpoint,
}
