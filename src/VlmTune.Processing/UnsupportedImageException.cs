namespace VlmTune.Processing;

/// <summary>
/// An image the selected <see cref="NonRgbImages"/> behaviour cannot process (transformers 4.x refuses gray + alpha
/// and 16-bit gray above 255). The message says why and what to do; callers add the file or record.
/// </summary>
public sealed class UnsupportedImageException(string message) : Exception(message);
