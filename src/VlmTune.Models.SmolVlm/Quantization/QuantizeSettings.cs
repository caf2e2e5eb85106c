using VlmTune.Quantization;

namespace VlmTune.Models.SmolVlm.Quantization;

/// <summary>
/// Which linear weights become 4-bit and how. By default every linear of both towers and the connector; lm_head and
/// the embeddings keep their dtype. <see cref="Skip"/> holds module-name fragments left unquantised (bitsandbytes'
/// llm_int8_skip_modules semantics: a module is skipped when its name contains one of them).
/// </summary>
public sealed record QuantizeSettings
{
    public QuantType Type { get; init; } = QuantType.Nf4;
    public int Blocksize { get; init; } = 64;
    public bool DoubleQuant { get; init; } = true;
    public IReadOnlyList<string> Skip { get; init; } = ["lm_head"];

    public void Validate()
    {
        if (Blocksize < 32 || Blocksize > 4096 || (Blocksize & (Blocksize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(Blocksize), Blocksize, "blocksize must be a power of two from 32 to 4096");
    }

    /// <summary>True for a 2-D linear weight key that is quantised under these settings.</summary>
    public bool Quantizes(string key, long[] shape) =>
        shape.Length == 2 && key.EndsWith(".weight", StringComparison.Ordinal) && !key.Contains("embed", StringComparison.Ordinal)
        && !Skip.Any(s => key.Contains(s, StringComparison.Ordinal));
}
