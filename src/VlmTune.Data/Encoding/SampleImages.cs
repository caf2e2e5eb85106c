using VlmTune.Data.Datasets;
using VlmTune.Images;
using VlmTune.Processing;

namespace VlmTune.Data.Encoding;

/// <summary>
/// The images of one sample and their tile grids, with or without pixel values. With pixels, decoding happens once
/// and <see cref="Regrid"/> re-processes the same pixels global-only for OverflowPolicy.ShrinkImages. Without pixels
/// only the image headers are read (<see cref="ImageSource.ReadSize"/>): the grids and token counts are exact and
/// no pixel is decoded — the planning pass of training and `inspect dataset`.
/// </summary>
internal sealed class SampleImages
{
    private readonly RgbImage[]? _decoded;
    private readonly (int Width, int Height)[] _sizes;

    private SampleImages(RgbImage[]? decoded, (int, int)[] sizes, int[] rows, int[] cols, ProcessedImages? pixels, bool globalOnly)
    {
        _decoded = decoded;
        _sizes = sizes;
        Rows = rows;
        Cols = cols;
        Pixels = pixels;
        GlobalOnly = globalOnly;
    }

    public int[] Rows { get; }
    public int[] Cols { get; }
    public ProcessedImages? Pixels { get; }
    public bool GlobalOnly { get; }
    public bool AnySplit => Rows.Any(r => r > 0);

    public static SampleImages Load(IReadOnlyList<ImageSource> sources, SmolVlmProcessor processor, bool loadPixels)
    {
        if (!loadPixels) return FromSizes(sources.Select(s => s.ReadSize()).ToArray(), processor, globalOnly: false);
        var decoded = new RgbImage[sources.Count];
        for (int i = 0; i < sources.Count; i++) decoded[i] = sources[i].Load();
        return Build(decoded, processor, globalOnly: false);
    }

    public SampleImages Regrid(SmolVlmProcessor processor) =>
        _decoded is null ? FromSizes(_sizes, processor, globalOnly: true) : Build(_decoded, processor, globalOnly: true);

    private static SampleImages Build(RgbImage[] decoded, SmolVlmProcessor processor, bool globalOnly)
    {
        var pixels = (globalOnly ? processor.GlobalOnlyImageProcessor : processor.ImageProcessor).Process(decoded);
        return new SampleImages(decoded, decoded.Select(d => (d.Width, d.Height)).ToArray(), pixels.ImageRows, pixels.ImageCols, pixels, globalOnly);
    }

    private static SampleImages FromSizes((int Width, int Height)[] sizes, SmolVlmProcessor processor, bool globalOnly)
    {
        var rows = new int[sizes.Length];
        var cols = new int[sizes.Length];
        for (int i = 0; i < sizes.Length; i++)
            (rows[i], cols[i]) = GridOf(processor.ImageConfig, sizes[i].Width, sizes[i].Height, split: !globalOnly);
        return new SampleImages(null, sizes, rows, cols, null, globalOnly);
    }

    /// <summary>The tile grid <see cref="SmolVlmImageProcessor.Tile"/> would produce, without resampling any pixel.</summary>
    public static (int Rows, int Cols) GridOf(ImageProcessorConfig config, int width, int height, bool split)
    {
        if (config.DoResize) (width, height) = SmolVlmResizePlan.LongestEdge(width, height, config.LongestEdge);
        if (!split || !config.DoImageSplitting) return (0, 0);
        var (w2, h2) = SmolVlmResizePlan.MultipleOf(width, height, config.MaxImageSize);
        return SmolVlmResizePlan.Grid(w2, h2, config.MaxImageSize);
    }
}
