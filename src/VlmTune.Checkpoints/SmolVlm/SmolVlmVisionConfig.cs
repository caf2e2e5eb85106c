namespace VlmTune.Checkpoints.SmolVlm;

/// <summary>
/// The SigLIP-style vision tower of Idefics3 / SmolVLM. Initial values are the class defaults of
/// Idefics3VisionConfig / SmolVLMVisionConfig (transformers), which also apply to keys a checkpoint's
/// vision_config leaves out (spec smolvlm.md §1.2).
/// </summary>
public sealed record SmolVlmVisionConfig
{
    /// <summary>"idefics3_vision" or "smolvlm_vision" (informational: HF builds the vision config whatever it says).</summary>
    public string ModelType { get; init; } = "idefics3_vision";
    public int HiddenSize { get; init; } = 1152;
    public int IntermediateSize { get; init; } = 3072;
    public int NumHiddenLayers { get; init; } = 12;
    public int NumAttentionHeads { get; init; } = 16;
    public int NumChannels { get; init; } = 3;
    /// <summary>Tile edge in pixels.</summary>
    public int ImageSize { get; init; } = 224;
    public int PatchSize { get; init; } = 32;
    public string HiddenAct { get; init; } = "gelu_pytorch_tanh";
    public double LayerNormEps { get; init; } = 1e-6;
    public double AttentionDropout { get; init; } = 0.0;
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>Per-head width: hidden / heads.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Patches along one tile edge, G = image_size // patch_size (a "valid" stride-P convolution floors: 384 / 14 → 27).</summary>
    public int PatchesPerSide => ImageSize / PatchSize;

    /// <summary>Patches per tile, G² (also the number of position embeddings).</summary>
    public int PatchesPerTile => PatchesPerSide * PatchesPerSide;
}
