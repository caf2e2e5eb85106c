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
/// An <see cref="RgbImage"/> goes through these steps as is (both transformers 4.x and 5.x). A
/// <see cref="DecodedImage"/> in another mode follows <see cref="ImageProcessorConfig.NonRgbImages"/>: transformers 5.x
/// converts it first (<see cref="DecodedImage.ToRgb"/>); transformers 4.x resizes its own array and converts each tile
/// (<see cref="Transformers4Tiling"/>). Legend: N = tiles, M = tile edge. Holds no mutable state: safe to share across threads.
/// </summary>
public sealed class SmolVlmImageProcessor
{
    readonly PixelNormalizer _normalizer;
    readonly bool _useAvx2;

    public ImageProcessorConfig Config { get; }

    /// <summary>Whether the resize passes use the AVX2 kernels (bit-identical to the scalar reference).</summary>
    internal bool UseAvx2 => _useAvx2;

    public SmolVlmImageProcessor(ImageProcessorConfig config) : this(config, ResamplePassAvx2.IsSupported) { }

    internal SmolVlmImageProcessor(ImageProcessorConfig config, bool useAvx2)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _normalizer = new PixelNormalizer(config);
        _useAvx2 = useAvx2;
    }

    /// <summary>Resizes and splits one RGB image (steps 1–3), still uint8.</summary>
    public TiledImage Tile(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Tile(image, image.Width, image.Height, Resize, rgb => rgb);
    }

    /// <summary>Resizes and splits one image of any mode (steps 1–3) as <see cref="ImageProcessorConfig.NonRgbImages"/> says.</summary>
    /// <exception cref="UnsupportedImageException">transformers 4.x behaviour and an image it refuses.</exception>
    public TiledImage Tile(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Mode == ImageMode.Rgb || Config.NonRgbImages == NonRgbImages.Transformers5) return Tile(image.ToRgb());
        return Transformers4Tiling.Tile(this, image);
    }

    /// <summary>
    /// Steps 1–3 on any representation: <paramref name="resize"/> resamples it, <paramref name="toRgb"/> turns the
    /// stage-2 image and the global image into RGB (a per-pixel map, so it commutes with cutting tiles).
    /// </summary>
    internal TiledImage Tile<T>(T image, int width, int height, Func<T, int, int, T> resize, Func<T, RgbImage> toRgb)
    {
        int m = Config.MaxImageSize;
        T current = image;
        int w = width, h = height;
        if (Config.DoResize)
        {
            (w, h) = SmolVlmResizePlan.LongestEdge(w, h, Config.LongestEdge);
            current = resize(current, w, h);
        }
        if (!Config.DoImageSplitting)
        {
            RgbImage square = toRgb(resize(current, m, m));
            return new TiledImage(square, square, 0, 0, m);
        }

        var (w2, h2) = SmolVlmResizePlan.MultipleOf(w, h, m);
        current = resize(current, w2, h2);
        var (rows, cols) = SmolVlmResizePlan.Grid(w2, h2, m);
        RgbImage resized = toRgb(current);
        if (rows == 0)
            return new TiledImage(resized, resized, 0, 0, m);   // a multiple of M no larger than M: exactly M×M
        RgbImage global = toRgb(resize(current, m, m));
        return new TiledImage(resized, global, rows, cols, m);
    }

    /// <summary>Processes the images of one sample: tiles of every image, in order, normalised.</summary>
    public ProcessedImages Process(IReadOnlyList<RgbImage> images)
    {
        return Process(AsDecoded(images));
    }

    /// <summary>The same for images of any mode (see <see cref="Tile(DecodedImage)"/>).</summary>
    /// <exception cref="UnsupportedImageException">transformers 4.x behaviour and an image it refuses.</exception>
    public ProcessedImages Process(IReadOnlyList<DecodedImage> images) => Process(TileAll(images));

    /// <summary>Normalises images already tiled by this processor (<see cref="Tile(DecodedImage)"/>).</summary>
    public ProcessedImages Process(IReadOnlyList<TiledImage> tiled)
    {
        ArgumentNullException.ThrowIfNull(tiled);
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
        TiledImage[][] tiled = samples.Select(s => TileAll(AsDecoded(s))).ToArray();
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

    static DecodedImage[] AsDecoded(IReadOnlyList<RgbImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var decoded = new DecodedImage[images.Count];
        for (int i = 0; i < images.Count; i++)
            decoded[i] = DecodedImage.FromRgb(images[i] ?? throw new ArgumentNullException(nameof(images), $"image {i} is null"));
        return decoded;
    }

    TiledImage[] TileAll(IReadOnlyList<DecodedImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var tiled = new TiledImage[images.Count];
        for (int i = 0; i < images.Count; i++)
            tiled[i] = Tile(images[i] ?? throw new ArgumentNullException(nameof(images), $"image {i} is null"));
        return tiled;
    }

    internal RgbImage Resize(RgbImage image, int width, int height) =>
        PillowResize.ResizeOrSame(image, width, height, Config.Resample, _useAvx2);
}
