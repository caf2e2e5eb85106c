namespace VlmTune.Models.SmolVlm.Init;

/// <summary>How a tensor is initialised (chosen from its key).</summary>
public enum InitKind
{
    /// <summary>normal(0, initializer_range): linear weights, embeddings, the patch convolution, the connector.</summary>
    Normal,
    /// <summary>1: LayerNorm / RMSNorm weights.</summary>
    Ones,
    /// <summary>0: biases.</summary>
    Zeros,
}
