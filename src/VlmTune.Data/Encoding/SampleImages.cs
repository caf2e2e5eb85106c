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
    private readonly DecodedImage[]? _decoded;
    private readonly IReadOnlyList<ImageSource>? _sources;   // with the decoded images: named in errors
    private readonly (int Width, int Height)[] _sizes;

    private SampleImages(IReadOnlyList<ImageSource>? sources, DecodedImage[]? decoded, (int, int)[] sizes, int[] rows, int[] cols, ProcessedImages? pixels, bool globalOnly)
    {
        _sources = sources;
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

    /// <exception cref="DatasetRecordException">An image cannot be read or decoded, or the selected non-RGB behaviour
    /// (transformers 4.x) refuses it — a gray + alpha image already from its header.</exception>
    public static SampleImages Load(IReadOnlyList<ImageSource> sources, SmolVlmProcessor processor, bool loadPixels)
    {
        if (!loadPixels)
        {
            var sizes = new (int, int)[sources.Count];
            for (int i = 0; i < sources.Count; i++)
            {
                var (w, h, mode) = sources[i].ReadHeader();
                if (mode == ImageMode.GrayAlpha && processor.ImageConfig.NonRgbImages == NonRgbImages.Transformers4)
                    throw new DatasetRecordException(sources[i].Record, sources[i].FieldPath, UnsupportedImageException.GrayAlpha);
                sizes[i] = (w, h);
            }
            return FromSizes(sizes, processor, globalOnly: false);
        }
        var decoded = new DecodedImage[sources.Count];
        for (int i = 0; i < sources.Count; i++) decoded[i] = sources[i].Open();
        return Build(sources, decoded, processor, globalOnly: false);
    }

    public SampleImages Regrid(SmolVlmProcessor processor) =>
        _decoded is null ? FromSizes(_sizes, processor, globalOnly: true) : Build(_sources!, _decoded, processor, globalOnly: true);

    private static SampleImages Build(IReadOnlyList<ImageSource> sources, DecodedImage[] decoded, SmolVlmProcessor processor, bool globalOnly)
    {
        var imageProcessor = globalOnly ? processor.GlobalOnlyImageProcessor : processor.ImageProcessor;
        var tiled = new TiledImage[decoded.Length];
        for (int i = 0; i < decoded.Length; i++)
        {
            try { tiled[i] = imageProcessor.Tile(decoded[i]); }
            catch (UnsupportedImageException e)
            {
                throw new DatasetRecordException(sources[i].Record, sources[i].FieldPath, e.Message, e);
            }
        }
        var pixels = imageProcessor.Process(tiled);
        return new SampleImages(sources, decoded, decoded.Select(d => (d.Width, d.Height)).ToArray(), pixels.ImageRows, pixels.ImageCols, pixels, globalOnly);
    }

    private static SampleImages FromSizes((int Width, int Height)[] sizes, SmolVlmProcessor processor, bool globalOnly)
    {
        var rows = new int[sizes.Length];
        var cols = new int[sizes.Length];
        for (int i = 0; i < sizes.Length; i++)
            (rows[i], cols[i]) = GridOf(processor.ImageConfig, sizes[i].Width, sizes[i].Height, split: !globalOnly);
        return new SampleImages(null, null, sizes, rows, cols, null, globalOnly);
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
