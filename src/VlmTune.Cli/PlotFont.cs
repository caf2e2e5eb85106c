using VlmTune.Images;

namespace VlmTune.Cli;

/// <summary>
/// A small anti-aliased monospace font for the curve plots (printable ASCII; anything else draws as '?'), blended
/// onto an <see cref="RgbImage"/>. The glyph table is generated (PlotFont.Glyphs.cs).
/// </summary>
internal static partial class PlotFont
{
    /// <summary>Width in pixels of <paramref name="text"/>.</summary>
    public static int Measure(string text) => text.Length * Width;

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (x, y); <paramref name="vertical"/> rotates it a quarter turn anticlockwise (reading bottom to top, starting at (x, y)).</summary>
    public static void Draw(RgbImage img, string text, int x, int y, (byte R, byte G, byte B) colour, bool vertical = false)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i] is >= ' ' and <= '~' ? text[i] : '?';
            string glyph = Glyphs[c - ' '];
            for (int gy = 0; gy < Height; gy++)
                for (int gx = 0; gx < Width; gx++)
                {
                    int a = Convert.ToInt32(glyph[gy * Width + gx].ToString(), 16);
                    if (a == 0) continue;
                    int px = vertical ? x + gy : x + i * Width + gx;
                    int py = vertical ? y - i * Width - gx : y + gy;
                    Blend(img, px, py, colour, a / 15.0);
                }
        }
    }

    static void Blend(RgbImage img, int x, int y, (byte R, byte G, byte B) c, double alpha)
    {
        if ((uint)x >= (uint)img.Width || (uint)y >= (uint)img.Height) return;
        int i = (y * img.Width + x) * 3;
        img.Pixels[i] = (byte)Math.Round(img.Pixels[i] * (1 - alpha) + c.R * alpha);
        img.Pixels[i + 1] = (byte)Math.Round(img.Pixels[i + 1] * (1 - alpha) + c.G * alpha);
        img.Pixels[i + 2] = (byte)Math.Round(img.Pixels[i + 2] * (1 - alpha) + c.B * alpha);
    }
}
