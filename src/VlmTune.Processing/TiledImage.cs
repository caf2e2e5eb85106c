using VlmTune.Images;

namespace VlmTune.Processing;

/// <summary>
/// One input image after the resize stages and the split, still uint8 (before rescale / normalise):
/// <see cref="Rows"/>·<see cref="Cols"/> M×M crops of <see cref="Resized"/> row-major, then the global image.
/// Rows = Cols = 0 when the image was not split (a single M×M image; its prompt uses the single-image form).
/// </summary>
public sealed class TiledImage
{
    /// <summary>The stage-2 image the tiles are cut from (or the single M×M image when not split); this is the caller's
    /// input itself when no resize changed its size, so treat it as read-only.</summary>
    public RgbImage Resized { get; }
    /// <summary>The global view: Resized resized to M×M (the same object as Resized when not split).</summary>
    public RgbImage Global { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int TileSize { get; }

    /// <summary>Rows·Cols + 1 when split, else 1.</summary>
    public int TileCount => Rows * Cols + 1;

    internal TiledImage(RgbImage resized, RgbImage global, int rows, int cols, int tileSize)
    {
        Resized = resized;
        Global = global;
        Rows = rows;
        Cols = cols;
        TileSize = tileSize;
    }

    /// <summary>Source image and top-left corner of tile <paramref name="index"/> (0 .. TileCount − 1; last = global).</summary>
    public (RgbImage Source, int X, int Y) TileOrigin(int index)
    {
        if ((uint)index >= (uint)TileCount)
            throw new ArgumentOutOfRangeException(nameof(index), $"tile {index} of {TileCount}");
        if (index == TileCount - 1) return (Global, 0, 0);
        return (Resized, index % Cols * TileSize, index / Cols * TileSize);
    }

    /// <summary>A copy of tile <paramref name="index"/> as its own M×M image.</summary>
    public RgbImage Tile(int index)
    {
        var (source, x0, y0) = TileOrigin(index);
        int m = TileSize;
        var pixels = new byte[m * m * 3];
        for (int y = 0; y < m; y++)
            source.Pixels.AsSpan(((y0 + y) * source.Width + x0) * 3, m * 3).CopyTo(pixels.AsSpan(y * m * 3));
        return new RgbImage(m, m, pixels);
    }
}
