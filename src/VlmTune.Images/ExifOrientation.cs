namespace VlmTune.Images;

/// <summary>
/// EXIF orientation (tag 0x0112): reads it from a TIFF-structured EXIF block and applies it the way Pillow's
/// <c>ImageOps.exif_transpose</c> does (2 = mirror, 3 = rotate 180, 4 = flip, 5 = transpose, 6 = rotate 90 clockwise,
/// 7 = transverse, 8 = rotate 90 counter-clockwise). Malformed EXIF is treated as "no orientation" rather than an
/// error: the pixels themselves are intact.
/// </summary>
internal static class ExifOrientation
{
    /// <summary>Returns 1..8, or 1 when the block is malformed or has no orientation tag.</summary>
    /// <param name="tiff">The EXIF payload starting at the TIFF header ("II*\0" or "MM\0*").</param>
    public static int Read(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8) return 1;
        bool little;
        if (tiff[0] == 'I' && tiff[1] == 'I') little = true;
        else if (tiff[0] == 'M' && tiff[1] == 'M') little = false;
        else return 1;
        if (U16(tiff, 2, little) != 42) return 1;
        long ifd = U32(tiff, 4, little);
        if (ifd < 8 || ifd + 2 > tiff.Length) return 1;
        int count = U16(tiff, (int)ifd, little);
        for (int i = 0; i < count; i++)
        {
            long entry = ifd + 2 + 12L * i;
            if (entry + 12 > tiff.Length) return 1;
            int e = (int)entry;
            if (U16(tiff, e, little) != 0x0112) continue;
            int type = U16(tiff, e + 2, little);
            long n = U32(tiff, e + 4, little);
            if (type != 3 || n < 1) return 1;          // SHORT, value stored inline
            int value = U16(tiff, e + 8, little);
            return value is >= 1 and <= 8 ? value : 1;
        }
        return 1;
    }

    /// <summary>Returns a new image with the orientation applied (or the same image for orientation 1).</summary>
    public static RgbImage Apply(RgbImage src, int orientation)
    {
        var o = Apply(DecodedImage.FromRgb(src), orientation);
        return ReferenceEquals(o.Samples, src.Pixels) ? src : new RgbImage(o.Width, o.Height, o.Samples);
    }

    /// <summary>The same for an image of any mode: whole pixels (all their bytes) move; the palette is kept.</summary>
    public static DecodedImage Apply(DecodedImage src, int orientation)
    {
        if (orientation is < 2 or > 8) return src;
        int w = src.Width, h = src.Height, bpp = src.BytesPerPixel;
        bool swap = orientation >= 5;
        int ow = swap ? h : w, oh = swap ? w : h;
        var dst = new byte[src.Samples.Length];
        var s = src.Samples;
        for (int y = 0; y < oh; y++)
        {
            for (int x = 0; x < ow; x++)
            {
                (int sx, int sy) = orientation switch
                {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x),   // 8
                };
                s.AsSpan((sy * w + sx) * bpp, bpp).CopyTo(dst.AsSpan((y * ow + x) * bpp));
            }
        }
        return new DecodedImage(ow, oh, src.Mode, dst, src.Palette);
    }

    private static int U16(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? b[at] | b[at + 1] << 8 : b[at] << 8 | b[at + 1];

    private static long U32(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? (uint)(b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24)
               : (uint)(b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3]);
}
