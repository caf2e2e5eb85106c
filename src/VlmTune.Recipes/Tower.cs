namespace VlmTune.Recipes;

/// <summary>A part of the model that LoRA may adapt (YAML <c>lora.towers</c>).</summary>
public enum Tower
{
    /// <summary><c>text</c>: the Llama decoder.</summary>
    Text,
    /// <summary><c>vision</c>: the SigLIP encoder.</summary>
    Vision,
    /// <summary><c>connector</c>: the pixel-shuffle projection.</summary>
    Connector,
}
