namespace VlmTune.Recipes;

/// <summary>The activation dtype a run computes in (YAML <c>train.compute_dtype</c>).</summary>
public enum ComputeDType
{
    /// <summary><c>auto</c>: bf16 on a CUDA device, f32 on the CPU.</summary>
    Auto,
    /// <summary><c>f32</c>: everything in f32.</summary>
    F32,
    /// <summary>
    /// <c>bf16</c>: activations (and their gradients) in bf16, GEMMs accumulating in f32, norms / softmax / losses
    /// computed in f32; LoRA weights, their gradients and the AdamW moments stay f32 (HF PEFT's mixed precision).
    /// </summary>
    Bf16,
}
