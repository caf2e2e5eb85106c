namespace VlmTune.Processing;

/// <summary>
/// The size arithmetic of transformers' slow <c>SmolVLMImageProcessor</c> (image_processing_smolvlm.py), in
/// Python's double precision (spec §4.2 and errata §9.1). Sizes are (width, height); L = size.longest_edge,
/// M = max_image_size.longest_edge.
/// </summary>
public static class SmolVlmResizePlan
{
    /// <summary>transformers' MAX_IMAGE_SIZE: a second cap on stage 1 (a no-op for L ≤ 4096).</summary>
    public const int MaxImageSize = 4096;

    /// <summary>
    /// Stage 1 (<c>_resize_output_size_rescale_to_max_len</c> then <c>_resize_output_size_scale_below_upper_bound</c>):
    /// longest edge to exactly L, the other edge int(L / aspect) or int(L · aspect), bumped to even, at least 1.
    /// </summary>
    public static (int Width, int Height) LongestEdge(int width, int height, int longestEdge)
    {
        CheckSize(width, height);
        if (longestEdge <= 0) throw new ArgumentOutOfRangeException(nameof(longestEdge), $"must be positive, got {longestEdge}");
        double aspect = (double)width / height;
        int w, h;
        if (width >= height)
        {
            w = longestEdge;
            h = (int)(w / aspect);
            if (h % 2 != 0) h++;
        }
        else
        {
            h = longestEdge;
            w = (int)(h * aspect);
            if (w % 2 != 0) w++;
        }
        w = Math.Max(w, 1);
        h = Math.Max(h, 1);

        // Cap below MAX_IMAGE_SIZE, keeping the aspect of the stage-1 size (no even bump here).
        aspect = (double)w / h;
        if (w >= h && w > MaxImageSize)
        {
            w = MaxImageSize;
            h = (int)(w / aspect);
        }
        else if (h > w && h > MaxImageSize)
        {
            h = MaxImageSize;
            w = (int)(h * aspect);
        }
        return (Math.Max(w, 1), Math.Max(h, 1));
    }

    /// <summary>
    /// Stage 2 (<c>resize_for_vision_encoder</c>): the longer edge rounded up to a multiple of M, the other edge
    /// int(new / aspect) (or · aspect) rounded up to a multiple of M. Slightly distorts the aspect ratio.
    /// </summary>
    public static (int Width, int Height) MultipleOf(int width, int height, int tileSize)
    {
        CheckSize(width, height);
        if (tileSize <= 0) throw new ArgumentOutOfRangeException(nameof(tileSize), $"must be positive, got {tileSize}");
        double aspect = (double)width / height;
        int w, h;
        if (width >= height)
        {
            w = CeilMultiple(width, tileSize);
            h = CeilMultiple((int)(w / aspect), tileSize);
        }
        else
        {
            h = CeilMultiple(height, tileSize);
            w = CeilMultiple((int)(h * aspect), tileSize);
        }
        return (w, h);
    }

    /// <summary>Rows and columns of M×M tiles of a stage-2 image; (0, 0) when it is not larger than one tile.</summary>
    public static (int Rows, int Cols) Grid(int width, int height, int tileSize)
    {
        CheckSize(width, height);
        if (height <= tileSize && width <= tileSize) return (0, 0);
        return (CeilDiv(height, tileSize), CeilDiv(width, tileSize));
    }

    /// <summary>Python's math.ceil(value / m) * m on a double quotient.</summary>
    static int CeilMultiple(int value, int m) => (int)Math.Ceiling((double)value / m) * m;

    static int CeilDiv(int value, int m) => (int)Math.Ceiling((double)value / m);

    static void CheckSize(int width, int height)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}x{height}");
    }
}
