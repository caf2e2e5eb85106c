namespace VlmTune.Processing.Resampling;

/// <summary>
/// Pillow's resampling filters, numbered as <c>PIL.Image.Resampling</c> (the integer stored as <c>resample</c> in
/// Hugging Face <c>preprocessor_config.json</c>). Every filter except <see cref="Nearest"/> goes through the same
/// separable convolution (<see cref="PillowResize"/>); nearest is a different Pillow code path, ported only for the
/// one-channel images transformers 4.x resizes that way (<see cref="PillowModeResize.Nearest"/>).
/// </summary>
public enum ResampleFilter
{
    Nearest = 0,
    Lanczos = 1,
    Bilinear = 2,
    Bicubic = 3,
    Box = 4,
    Hamming = 5,
}
