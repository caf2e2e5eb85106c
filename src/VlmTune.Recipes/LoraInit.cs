namespace VlmTune.Recipes;

/// <summary>Initialisation of LoRA A (B starts at zero either way; YAML <c>lora.init</c>).</summary>
public enum LoraInit
{
    /// <summary><c>kaiming</c>: Kaiming-uniform(a = sqrt 5), PEFT's default.</summary>
    Kaiming,
    /// <summary><c>gaussian</c>: N(0, 1/r), PEFT <c>init_lora_weights="gaussian"</c>.</summary>
    Gaussian,
}
