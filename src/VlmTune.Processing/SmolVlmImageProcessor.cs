using VlmTune.Images;
using VlmTune.Processing.Resampling;

namespace VlmTune.Processing;

/// <summary>
/// Port of transformers' slow (PIL-based) <c>SmolVLMImageProcessor.preprocess</c> for RGB inputs (spec §4.2):
/// <list type="number">
/// <item>stage 1: longest edge to L = size.longest_edge (<see cref="SmolVlmResizePlan.LongestEdge"/>), Pillow resize;</item>
/// <item>stage 2: both edges up to multiples of M = max_image_size.longest_edge (<see cref="SmolVlmResizePlan.MultipleOf"/>);</item>
/// <item>split into M×M tiles row-major, then the global image (stage 2 resized to M×M); rows = cols = 0 when the
///   stage-2 image is a single tile. Without do_image_splitting the stage-1 image is squared to M×M instead;</item>
/// <item>rescale and normalise (<see cref="PixelNormalizer"/>) into planar (N, 3, M, M) floats.</item>
/// </list>
/// Inputs are already RGB (decoders composite alpha over white), so HF's convert_to_rgb after the split is the
/// identity and is skipped. Legend: N = tiles, M = tile edge. Holds no mutable state: safe to share across threads.
/// </summary>
public sealed class SmolVlmImageProcessor
{
    readonly PixelNormalizer _normalizer;
    readonly bool _useAvx2;

    public ImageProcessorConfig Config { get; }

    public SmolVlmImageProcessor(ImageProcessorConfig config) : this(config, ResamplePassAvx2.IsSupported) { }

    internal SmolVlmImageProcessor(ImageProcessorConfig config, bool useAvx2)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _normalizer = new PixelNormalizer(config);
        _useAvx2 = useAvx2;
    }

    /// <summary>Resizes and splits one image (steps 1–3), still uint8.</summary>
    public TiledImage Tile(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int m = Config.MaxImageSize;
        RgbImage current = image;
        if (Config.DoResize)
        {
            var (w1, h1) = SmolVlmResizePlan.LongestEdge(current.Width, current.Height, Config.LongestEdge);
            current = Resize(current, w1, h1);
        }
        if (!Config.DoImageSplitting)
        {
            current = Resize(current, m, m);
            return new TiledImage(current, current, 0, 0, m);
        }

        var (w2, h2) = SmolVlmResizePlan.MultipleOf(current.Width, current.Height, m);
        current = Resize(current, w2, h2);
        var (rows, cols) = SmolVlmResizePlan.Grid(w2, h2, m);
        if (rows == 0)
            return new TiledImage(current, current, 0, 0, m);   // a multiple of M no larger than M: exactly M×M
        RgbImage global = Resize(current, m, m);
        return new TiledImage(current, global, rows, cols, m);
    }

    /// <summary>Processes the images of one sample: tiles of every image, in order, normalised.</summary>
    public ProcessedImages Process(IReadOnlyList<RgbImage> images)
    {
        TiledImage[] tiled = TileAll(images);
        int m = Config.MaxImageSize;
        int tileCount = tiled.Sum(t => t.TileCount);
        var pixels = new float[checked((long)tileCount * 3 * m * m)];
        WritePixelValues(tiled, pixels);
        return new ProcessedImages(pixels, tileCount, m,
            tiled.Select(t => t.Rows).ToArray(), tiled.Select(t => t.Cols).ToArray());
    }

    /// <summary>
    /// Processes every sample and pads them to a common tile count (zero tiles, mask false), normalising straight
    /// into the batch buffer.
    /// </summary>
    public ProcessedImageBatch ProcessBatch(IReadOnlyList<IReadOnlyList<RgbImage>> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new ArgumentException("a batch needs at least one sample", nameof(samples));
        TiledImage[][] tiled = samples.Select(TileAll).ToArray();
        int m = Config.MaxImageSize;
        int[] tileCounts = tiled.Select(t => t.Sum(i => i.TileCount)).ToArray();
        int maxTiles = tileCounts.Max();
        long sampleFloats = (long)maxTiles * 3 * m * m;
        var pixels = new float[checked(samples.Count * sampleFloats)];
        for (int b = 0; b < samples.Count; b++)
            WritePixelValues(tiled[b], pixels.AsSpan((int)(b * sampleFloats), (int)sampleFloats));
        return new ProcessedImageBatch(pixels, tileCounts, m,
            tiled.Select(t => t.Select(i => i.Rows).ToArray()).ToArray(),
            tiled.Select(t => t.Select(i => i.Cols).ToArray()).ToArray());
    }

    /// <summary>Tiles of every image, normalised, into <paramref name="destination"/>: (Σ TileCount, 3, M, M) at its start.</summary>
    public void WritePixelValues(IReadOnlyList<TiledImage> tiled, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(tiled);
        int m = Config.MaxImageSize;
        int tileFloats = 3 * m * m;
        long needed = (long)tiled.Sum(t => t.TileCount) * tileFloats;
        if (destination.Length < needed)
            throw new ArgumentException($"destination holds {destination.Length} floats, {needed} are needed", nameof(destination));
        int n = 0;
        foreach (TiledImage t in tiled)
        {
            if (t.TileSize != m)
                throw new ArgumentException($"a tiled image has {t.TileSize}-pixel tiles, this processor makes {m}", nameof(tiled));
            for (int i = 0; i < t.TileCount; i++, n++)
            {
                var (source, x0, y0) = t.TileOrigin(i);
                _normalizer.ToPlanar(source.Pixels, source.Width, x0, y0, m, destination.Slice(n * tileFloats, tileFloats));
            }
        }
    }

    TiledImage[] TileAll(IReadOnlyList<RgbImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var tiled = new TiledImage[images.Count];
        for (int i = 0; i < images.Count; i++)
            tiled[i] = Tile(images[i] ?? throw new ArgumentNullException(nameof(images), $"image {i} is null"));
        return tiled;
    }

    RgbImage Resize(RgbImage image, int width, int height) =>
        PillowResize.ResizeOrSame(image, width, height, Config.Resample, _useAvx2);
}
