namespace VlmTune.Recipes;

/// <summary>
/// Which transformers release the pixels of non-RGB images (RGBA, gray + alpha, palette, gray, 16-bit, 1-bit) follow
/// (YAML <c>data.non_rgb_images</c>; CLI <c>--non-rgb-images</c>, same spellings). Plain RGB is the same in both.
/// </summary>
public enum NonRgbImages
{
    /// <summary><c>transformers-5</c> (default): Pillow <c>convert("RGB")</c> first — alpha dropped, not composited.</summary>
    Transformers5,
    /// <summary><c>transformers-4</c>: 4.x's slow processor — RGBA resized premultiplied and put on white per tile, gray and palette resized NEAREST.</summary>
    Transformers4,
}
