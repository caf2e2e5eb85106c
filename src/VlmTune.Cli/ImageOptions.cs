using System.CommandLine;
using VlmTune.Images;
using VlmTune.Processing;

namespace VlmTune.Cli;

/// <summary>
/// <c>--non-rgb-images transformers-5|transformers-4</c> (the recipe key <c>data.non_rgb_images</c>, same spellings) for
/// the verbs that process images without a recipe, and the one way they open and tile an image file.
/// </summary>
public static class ImageOptions
{
    public const string NonRgbHelp = "RGBA, gray+alpha, palette, gray and 16-bit images: pixels as transformers-5 (" +
        "Pillow convert(\"RGB\") first, alpha dropped) or transformers-4 (RGBA resized premultiplied and put on white per tile, " +
        "gray and palette resized NEAREST). Plain RGB is the same in both. See datasets.md.";

    /// <summary>
    /// The option without a default value: null means "as the adapter was trained" (<see cref="Resolve"/>) on the verbs
    /// that take --adapter, transformers-5 on the others.
    /// </summary>
    public static Option<string?> CreateNonRgbImages(bool takesAdapter = true) => new("--non-rgb-images")
    {
        Description = NonRgbHelp + (takesAdapter
            ? " Default: the setting the adapter was trained with (its vlmtune_base.json), else transformers-5."
            : " Default: transformers-5."),
    };

    /// <summary>
    /// The rule to use: <paramref name="value"/> when given, else the one recorded beside <paramref name="adapterDir"/>
    /// by the trainer, else transformers-5.
    /// </summary>
    public static NonRgbImages Resolve(string? value, string? adapterDir)
    {
        if (value != null || adapterDir == null) return ParseNonRgbImages(value ?? NonRgbImagesNames.Transformers5);
        VlmTune.Models.SmolVlm.Adapters.BasePreparation? recorded;
        try { recorded = VlmTune.Models.SmolVlm.Adapters.BasePreparation.TryLoad(adapterDir); }
        catch (InvalidDataException e) { throw new UserErrorException(e.Message); }
        if (recorded?.NonRgbImages is not { } name) return NonRgbImages.Transformers5;
        return NonRgbImagesNames.TryParse(name, out var rule) ? rule
            : throw new UserErrorException($"{Path.Combine(adapterDir, VlmTune.Models.SmolVlm.Adapters.BasePreparation.FileName)}: " +
                $"non_rgb_images \"{name}\" is not {NonRgbImagesNames.Transformers5} or {NonRgbImagesNames.Transformers4}");
    }

    public static NonRgbImages ParseNonRgbImages(string value) => NonRgbImagesNames.TryParse(value, out var rule) ? rule
        : throw new UserErrorException($"--non-rgb-images: expected transformers-5 or transformers-4, got '{value}'");

    /// <summary>Opens an image file in its own mode (RGBA, gray, palette, ...).</summary>
    public static DecodedImage Open(string path) => ImageDecoder.LoadOpen(path);

    /// <summary>Tiles every image, naming the image (by <paramref name="labels"/> when given, else its position) when the behaviour refuses it.</summary>
    public static ProcessedImages Process(SmolVlmImageProcessor processor, IReadOnlyList<DecodedImage> images, IReadOnlyList<string>? labels = null)
    {
        var tiled = new TiledImage[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            try { tiled[i] = processor.Tile(images[i]); }
            catch (UnsupportedImageException e)
            {
                throw new UserErrorException($"{(labels != null ? labels[i] : $"image {i + 1}")}: {e.Message}");
            }
        }
        return processor.Process(tiled);
    }
}
