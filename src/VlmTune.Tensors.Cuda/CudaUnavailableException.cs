namespace VlmTune.Tensors.Cuda;

/// <summary>No usable GPU: the message is one sentence for the user (no driver, no device, library missing, too old).</summary>
public sealed class CudaUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
