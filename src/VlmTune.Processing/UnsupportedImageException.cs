namespace VlmTune.Processing;

/// <summary>
/// An image the selected <see cref="NonRgbImages"/> behaviour cannot process (transformers 4.x refuses gray + alpha
/// and 16-bit gray above 255). The message says why and what to do; callers add the file or record.
/// </summary>
public sealed class UnsupportedImageException(string message) : Exception(message)
{
    /// <summary>Why transformers 4.x behaviour refuses a gray + alpha image (known from the header alone).</summary>
    public const string GrayAlpha =
        "a gray + alpha (LA) image cannot be processed as transformers 4.x does: its processor raises " +
        "\"Unable to infer channel dimension format\" for 2-channel arrays; use non-RGB images = transformers-5 " +
        "or convert the image to RGBA";
}
