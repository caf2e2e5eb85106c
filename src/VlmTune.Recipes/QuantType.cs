namespace VlmTune.Recipes;

/// <summary>4-bit storage format of the frozen base weights (YAML <c>quantization.type</c>).</summary>
public enum QuantType
{
    /// <summary><c>nf4</c>: NormalFloat4, the QLoRA default.</summary>
    Nf4,
    /// <summary><c>fp4</c>: bitsandbytes FP4 (E2M1).</summary>
    Fp4,
}
