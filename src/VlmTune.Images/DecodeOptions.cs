namespace VlmTune.Images;

/// <summary>Options shared by every codec.</summary>
public sealed record DecodeOptions
{
    /// <summary>Pillow's default decompression-bomb limit (<c>Image.MAX_IMAGE_PIXELS</c>).</summary>
    public const long PillowMaxPixels = 178_956_970;

    /// <summary>Images with more pixels than this are refused before any pixel memory is allocated.</summary>
    public long MaxPixels { get; init; } = PillowMaxPixels;

    /// <summary>Rotate/flip according to the EXIF orientation tag (as Pillow's <c>ImageOps.exif_transpose</c>).</summary>
    public bool ApplyExifOrientation { get; init; } = true;

    public static DecodeOptions Default { get; } = new();
}
