namespace VlmTune.Quantization;

/// <summary>
/// Bad quantised data or bad arguments to the quantiser: the message names the tensor key, field, block or offset.
/// </summary>
public sealed class QuantizationFormatException : Exception
{
    public QuantizationFormatException(string message) : base(message) { }

    public QuantizationFormatException(string message, Exception inner) : base(message, inner) { }
}
