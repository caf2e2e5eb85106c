using VlmTune.Tensors;

namespace VlmTune.Nn;

/// <summary>
/// Supplies a module's tensors by checkpoint key (e.g. "model.text_model.layers.0.self_attn.q_proj.weight"):
/// a checkpoint loader, a random initialiser, or a test's in-memory map. The shape is what the module expects;
/// a source must fail with a message naming the key when it cannot provide exactly that.
/// </summary>
public interface IWeightSource
{
    Device Device { get; }
    /// <summary>The tensor for <paramref name="key"/>. Matrices may stay in their stored dtype (f32/bf16);
    /// <paramref name="f32"/> asks for an f32 copy (norm weights, biases).</summary>
    Tensor Get(string key, Shape shape, bool f32);

    /// <summary>The 4-bit form of <paramref name="key"/> when the source stores it quantised (bitsandbytes layout), else null.</summary>
    Tensors.Quantization.Packed4BitWeight? GetQuantized(string key, Shape shape) => null;
}
