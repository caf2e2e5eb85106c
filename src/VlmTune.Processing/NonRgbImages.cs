namespace VlmTune.Processing;

/// <summary>
/// Which transformers release the pixels of an image that is not plain RGB (RGBA, gray + alpha, palette with or
/// without transparency, gray, 16-bit gray, 1-bit) must equal; plain RGB images are the same in both. Recipe key
/// <c>data.non_rgb_images</c> and CLI <c>--non-rgb-images</c>: <c>transformers-5</c> (default) or <c>transformers-4</c>.
/// Details and sources: datasets.md, "Images that are not plain RGB".
/// </summary>
public enum NonRgbImages
{
    /// <summary>
    /// transformers 5.x (both image-processor backends): <c>convert_to_rgb</c> = Pillow <c>convert("RGB")</c> on the image
    /// as opened, before any resize — alpha dropped (not composited), palette transparency ignored, gray replicated,
    /// 16-bit gray clamped to 255 — then the RGB pipeline.
    /// </summary>
    Transformers5,
    /// <summary>
    /// transformers 4.x slow <c>SmolVLMImageProcessor</c> / <c>Idefics3ImageProcessor</c> (≈ 4.46–4.57): the image's
    /// own array is resized; RGBA with Pillow's premultiplied resize and composited over white per tile after the split;
    /// one-channel images (gray, palette indices, 1-bit as 0/1, 16-bit gray ≤ 255) resized as mode "P", i.e. NEAREST,
    /// then mapped to RGB (palette entries without their transparency). Gray + alpha and 16-bit gray above 255 are
    /// errors there, and so here.
    /// </summary>
    Transformers4,
}

/// <summary>The one spelling of <see cref="NonRgbImages"/> (recipes, --non-rgb-images, the adapter's vlmtune_base.json).</summary>
public static class NonRgbImagesNames
{
    public const string Transformers5 = "transformers-5", Transformers4 = "transformers-4";

    public static string Name(this NonRgbImages value) => value == NonRgbImages.Transformers4 ? Transformers4 : Transformers5;

    public static bool TryParse(string? name, out NonRgbImages value)
    {
        value = name == Transformers4 ? NonRgbImages.Transformers4 : NonRgbImages.Transformers5;
        return name is Transformers5 or Transformers4;
    }
}
