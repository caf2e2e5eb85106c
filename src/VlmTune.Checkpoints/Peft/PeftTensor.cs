namespace VlmTune.Checkpoints.Peft;

/// <summary>
/// One adapter tensor in host memory, f32 row-major. <see cref="Key"/> is relative to the base model, without PEFT's
/// "base_model.model." prefix and without an adapter name, e.g.
/// "model.text_model.layers.0.self_attn.q_proj.lora_A.weight", "….lora_magnitude_vector",
/// "model.connector.modality_projection.proj.weight" (a modules_to_save copy).
/// </summary>
public sealed record PeftTensor(string Key, long[] Shape, float[] Data)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => checked(a * d));
}
