namespace VlmTune.Quantization;

/// <summary>The two bitsandbytes 4-bit data types. Serialized as "nf4" / "fp4".</summary>
public enum QuantType
{
    /// <summary>NormalFloat4: 16 quantiles of N(0,1) normalised to [-1, 1]; index order equals value order.</summary>
    Nf4,

    /// <summary>FP4 E2M1 (bias 2), table in bit-pattern order divided by 12; bit 3 is the sign.</summary>
    Fp4,
}
