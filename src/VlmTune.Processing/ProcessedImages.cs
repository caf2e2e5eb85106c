namespace VlmTune.Processing;

/// <summary>
/// The processor output for one sample (all its images, in order).
/// Legend: N = tiles of the sample (Σ over images of rows·cols + 1), M = tile edge.
/// Every tile is a full M×M image, so the pixel attention mask of a real tile is all ones (spec §2.1).
/// </summary>
public sealed class ProcessedImages
{
    /// <summary>(N, 3, M, M) float32, normalised; each image's tiles row-major then its global image.</summary>
    public float[] PixelValues { get; }
    public int TileCount { get; }
    public int TileSize { get; }
    /// <summary>(images): tile rows per image, 0 when the image was not split.</summary>
    public int[] ImageRows { get; }
    /// <summary>(images): tile columns per image, 0 when the image was not split.</summary>
    public int[] ImageCols { get; }

    public int ImageCount => ImageRows.Length;

    /// <summary>
    /// (N): true for every tile — a single sample has no padding tiles, and every tile is a full M×M image, so HF's
    /// pixel_attention_mask is all ones here. Padding appears only in <see cref="ProcessedImageBatch.TileMask"/>.
    /// </summary>
    public bool[] TileMask => Enumerable.Repeat(true, TileCount).ToArray();

    /// <summary>Tiles belonging to image <paramref name="image"/>: rows·cols + 1.</summary>
    public int TilesOf(int image) => ImageRows[image] * ImageCols[image] + 1;

    public ProcessedImages(float[] pixelValues, int tileCount, int tileSize, int[] imageRows, int[] imageCols)
    {
        ArgumentNullException.ThrowIfNull(pixelValues);
        ArgumentNullException.ThrowIfNull(imageRows);
        ArgumentNullException.ThrowIfNull(imageCols);
        if (imageRows.Length != imageCols.Length)
            throw new ArgumentException($"{imageRows.Length} row counts but {imageCols.Length} column counts", nameof(imageCols));
        long expected = (long)tileCount * 3 * tileSize * tileSize;
        if (pixelValues.Length != expected)
            throw new ArgumentException($"expected ({tileCount}, 3, {tileSize}, {tileSize}) = {expected} floats, got {pixelValues.Length}", nameof(pixelValues));
        int tiles = 0;
        for (int i = 0; i < imageRows.Length; i++)
        {
            if (imageRows[i] < 0 || imageCols[i] < 0 || (imageRows[i] == 0) != (imageCols[i] == 0))
                throw new ArgumentException($"image {i}: rows {imageRows[i]} and cols {imageCols[i]} must both be 0 or both positive");
            tiles += imageRows[i] * imageCols[i] + 1;
        }
        if (tiles != tileCount)
            throw new ArgumentException($"rows/cols describe {tiles} tiles but tileCount is {tileCount}", nameof(tileCount));
        PixelValues = pixelValues;
        TileCount = tileCount;
        TileSize = tileSize;
        ImageRows = imageRows;
        ImageCols = imageCols;
    }
}
