using System.Globalization;
using System.Runtime.InteropServices;
using VlmTune.Data.Datasets;
using VlmTune.Processing;
using VlmTune.Tensors;

namespace VlmTune.Data.Loading;

/// <summary>
/// Turns a sample's images into <see cref="ImageInput"/>s on a loader worker: read the bytes; with the feature cache,
/// a hit returns the stored features and skips decoding entirely; otherwise decode, tile and normalise (global-only
/// when the plan shrank the sample), check the grid against the plan, and convert the pixels to the compute dtype.
/// A worker runs ahead of training, so an image whose features are written after it looked is looked up again when
/// its batch runs (<c>DataFeed.Features</c>); misses are counted then. Thread-safe.
/// </summary>
public sealed class ImagePreparer
{
    readonly SmolVlmProcessor _processor;
    readonly FeatureCacheContext? _cache;

    public ImagePreparer(SmolVlmProcessor processor, DType dtype, FeatureCacheContext? cache = null)
    {
        _processor = processor ?? throw new ArgumentNullException(nameof(processor));
        if (dtype is not (DType.F32 or DType.BF16)) throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "pixels are f32 or bf16");
        DType = dtype;
        _cache = cache;
    }

    public DType DType { get; }
    public FeatureCacheContext? Cache => _cache;

    /// <summary>Images of one sample, with the tile grids the plan gave them.</summary>
    /// <exception cref="DatasetRecordException">An image cannot be read or decoded, or decodes to another grid than its header promised.</exception>
    public ImageInput[] Prepare(IReadOnlyList<ImageSource> sources, int[] rows, int[] cols, bool globalOnly)
    {
        var result = new ImageInput[sources.Count];
        for (int i = 0; i < sources.Count; i++)
        {
            var src = sources[i];
            int tiles = rows[i] * cols[i] + 1;
            var bytes = src.ReadBytes();
            byte[]? key = null;
            if (_cache != null)
            {
                key = ImageFeatureCache.KeyOf(bytes.Span, _cache.ProcessorFingerprint, _cache.WeightsFingerprint, DType.Name(), globalOnly);
                if (_cache.Cache.TryGet(key, tiles, _cache.Rows, _cache.Width, DType.Size(), count: false) is { } features)
                {
                    result[i] = new ImageInput(tiles, key, features, null);
                    continue;
                }
            }
            var image = src.Open(bytes.Span);
            var imageProcessor = globalOnly ? _processor.GlobalOnlyImageProcessor : _processor.ImageProcessor;
            TiledImage tiledImage;
            try { tiledImage = imageProcessor.Tile(image); }
            catch (UnsupportedImageException e) { throw new DatasetRecordException(src.Record, src.FieldPath, e.Message, e); }
            var processed = imageProcessor.Process([tiledImage]);
            if (processed.ImageRows[0] != rows[i] || processed.ImageCols[0] != cols[i])
                throw new DatasetRecordException(src.Record, src.FieldPath,
                    $"the image decodes to a {processed.ImageRows[0]}×{processed.ImageCols[0]} tile grid but its header promised {rows[i]}×{cols[i]} ({image.Width}×{image.Height} pixels)");
            result[i] = new ImageInput(tiles, key, null, ToDType(processed.PixelValues, DType));
        }
        return result;
    }

    /// <summary>f32 values as <paramref name="dtype"/> bytes (bf16: round to nearest even, as the backends' casts).</summary>
    public static byte[] ToDType(float[] values, DType dtype)
    {
        if (dtype == DType.F32) return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        var r = new ushort[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            uint u = BitConverter.SingleToUInt32Bits(values[i]);
            r[i] = (u & 0x7FFFFFFF) > 0x7F800000 ? (ushort)((u >> 16) | 0x40) : (ushort)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
        }
        return MemoryMarshal.AsBytes(r.AsSpan()).ToArray();
    }

    /// <summary>
    /// Every processor setting that changes an image's pixels or grid, as one string (part of the cache key). v2: non-RGB
    /// images follow <see cref="ImageProcessorConfig.NonRgbImages"/> (v1 composited alpha over white before resizing).
    /// </summary>
    public static string ProcessorFingerprint(ImageProcessorConfig c) => string.Join(';',
        "pixels-v2", c.NonRgbImages, c.DoResize, c.LongestEdge, c.MaxImageSize, c.DoImageSplitting, c.DoRescale,
        c.RescaleFactor.ToString("R", CultureInfo.InvariantCulture), c.DoNormalize,
        string.Join(',', c.ImageMean.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        string.Join(',', c.ImageStd.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        c.Resample, c.DoPad, c.ImageSeqLen);
}

/// <summary>The feature cache and what its keys bind to: processor settings, frozen weights, feature shape (S', Dt).</summary>
public sealed record FeatureCacheContext(ImageFeatureCache Cache, string ProcessorFingerprint, string WeightsFingerprint, int Rows, int Width);
