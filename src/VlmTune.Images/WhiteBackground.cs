namespace VlmTune.Images;

/// <summary>
/// Composites RGBA over opaque white, bit-exactly as Pillow's
/// <c>Image.alpha_composite(Image.new("RGBA", size, (255, 255, 255)), im.convert("RGBA")).convert("RGB")</c>,
/// which is what transformers 4.x's <c>convert_to_rgb</c> does (to each tile, after resizing). With an opaque white
/// destination Pillow's 7-bit fixed-point coefficients become exact (coef1 = 128·a), so per channel:
/// <code>t = 128·(c·a + 255·(255 − a)) + 128·128;  out = (((t &gt;&gt; 8) + t) &gt;&gt; 8) &gt;&gt; 7</code>
/// i.e. round(c·a/255 + 255·(1 − a/255)) with Pillow's shift-based division by 255.
/// </summary>
public static class WhiteBackground
{
    public static byte Composite(int c, int a)
    {
        uint t = (uint)(128 * (c * a + 255 * (255 - a)) + (0x80 << 7));
        return (byte)((((t >> 8) + t) >> 8) >> 7);
    }

    /// <summary>An <see cref="ImageMode.Rgba"/> image composited over white.</summary>
    public static RgbImage Composite(DecodedImage rgba)
    {
        ArgumentNullException.ThrowIfNull(rgba);
        if (rgba.Mode != ImageMode.Rgba) throw new ArgumentException($"expected an RGBA image, got {rgba.Mode}", nameof(rgba));
        var white = Table;
        var s = rgba.Samples;
        int n = rgba.Width * rgba.Height;
        var rgb = new byte[checked(n * 3)];
        for (int i = 0; i < n; i++)
        {
            int a = s[4 * i + 3] << 8;
            rgb[3 * i] = white[a | s[4 * i]];
            rgb[3 * i + 1] = white[a | s[4 * i + 1]];
            rgb[3 * i + 2] = white[a | s[4 * i + 2]];
        }
        return new RgbImage(rgba.Width, rgba.Height, rgb);
    }

    /// <summary>Table indexed by (a &lt;&lt; 8) | c, built once; 64 KiB.</summary>
    static ReadOnlySpan<byte> Table => s_table ??= Build();

    static byte[]? s_table;

    static byte[] Build()
    {
        var t = new byte[256 * 256];
        for (int a = 0; a < 256; a++)
            for (int c = 0; c < 256; c++)
                t[(a << 8) | c] = Composite(c, a);
        return t;
    }
}
