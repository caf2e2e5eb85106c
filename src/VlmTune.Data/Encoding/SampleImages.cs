using VlmTune.Data.Datasets;
using VlmTune.Images;
using VlmTune.Processing;

namespace VlmTune.Data.Encoding;

/// <summary>
/// The decoded images of one sample and their tile grids, with or without pixel values. Decoding happens once;
/// <see cref="Regrid"/> re-processes the same pixels global-only for OverflowPolicy.ShrinkImages.
/// </summary>
internal sealed class SampleImages
{
    private readonly RgbImage[] _decoded;

    private SampleImages(RgbImage[] decoded, int[] rows, int[] cols, ProcessedImages? pixels, bool globalOnly)
    {
        _decoded = decoded;
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
        var decoded = new RgbImage[sources.Count];
        for (int i = 0; i < sources.Count; i++) decoded[i] = sources[i].Load();
        return Build(decoded, processor, loadPixels, globalOnly: false);
    }

    public SampleImages Regrid(SmolVlmProcessor processor) => Build(_decoded, processor, Pixels is not null, globalOnly: true);

    private static SampleImages Build(RgbImage[] decoded, SmolVlmProcessor processor, bool loadPixels, bool globalOnly)
    {
        if (loadPixels)
        {
            var pixels = (globalOnly ? processor.GlobalOnlyImageProcessor : processor.ImageProcessor).Process(decoded);
            return new SampleImages(decoded, pixels.ImageRows, pixels.ImageCols, pixels, globalOnly);
        }
        var rows = new int[decoded.Length];
        var cols = new int[decoded.Length];
        for (int i = 0; i < decoded.Length; i++)
            (rows[i], cols[i]) = GridOf(processor.ImageConfig, decoded[i].Width, decoded[i].Height, split: !globalOnly);
        return new SampleImages(decoded, rows, cols, null, globalOnly);
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
