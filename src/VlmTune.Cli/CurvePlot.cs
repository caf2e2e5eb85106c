using VlmTune.Images;
using VlmTune.Images.Png;

namespace VlmTune.Cli;

/// <summary>
/// Minimal line charts as PNG (no font: the axes span each series' min..max, written in the log): white background,
/// grey axes and quarter grid lines, one coloured polyline per series. Used for the loss and DPO reward curves.
/// </summary>
public static class CurvePlot
{
    public static void Save(string path, IReadOnlyList<(IReadOnlyList<(double X, double Y)> Points, (byte R, byte G, byte B) Colour)> series,
        int width = 640, int height = 360)
    {
        var all = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Y)).ToList();
        if (all.Count < 2) return;
        var img = new RgbImage(width, height);
        Array.Fill(img.Pixels, (byte)255);
        const int m = 24;
        double x0 = all.Min(p => p.X), x1 = all.Max(p => p.X), y0 = all.Min(p => p.Y), y1 = all.Max(p => p.Y);
        if (x1 == x0) x1 = x0 + 1;
        if (y1 == y0) y1 = y0 + 1;
        int Px(double x) => m + (int)Math.Round((x - x0) / (x1 - x0) * (width - 2 * m));
        int Py(double y) => height - m - (int)Math.Round((y - y0) / (y1 - y0) * (height - 2 * m));
        for (int q = 0; q <= 4; q++)
        {
            int gy = m + q * (height - 2 * m) / 4, gx = m + q * (width - 2 * m) / 4;
            Line(img, m, gy, width - m, gy, q == 4 ? (byte)120 : (byte)225, q == 4 ? (byte)120 : (byte)225, q == 4 ? (byte)120 : (byte)225);
            Line(img, gx, m, gx, height - m, q == 0 ? (byte)120 : (byte)225, q == 0 ? (byte)120 : (byte)225, q == 0 ? (byte)120 : (byte)225);
        }
        foreach (var (points, (r, g, b)) in series)
            for (int i = 1; i < points.Count; i++)
                if (double.IsFinite(points[i - 1].Y) && double.IsFinite(points[i].Y))
                    Line(img, Px(points[i - 1].X), Py(points[i - 1].Y), Px(points[i].X), Py(points[i].Y), r, g, b);
        PngEncoder.Save(img, path);
    }

    /// <summary>Bresenham line, 2 px thick.</summary>
    static void Line(RgbImage img, int xa, int ya, int xb, int yb, byte r, byte g, byte b)
    {
        int dx = Math.Abs(xb - xa), dy = -Math.Abs(yb - ya), sx = xa < xb ? 1 : -1, sy = ya < yb ? 1 : -1, err = dx + dy;
        while (true)
        {
            for (int t = 0; t < 2; t++) Plot(img, xa + (dx > -dy ? 0 : t), ya + (dx > -dy ? t : 0), r, g, b);
            if (xa == xb && ya == yb) break;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; xa += sx; }
            if (e2 <= dx) { err += dx; ya += sy; }
        }
    }

    static void Plot(RgbImage img, int x, int y, byte r, byte g, byte b)
    {
        if ((uint)x >= (uint)img.Width || (uint)y >= (uint)img.Height) return;
        int i = (y * img.Width + x) * 3;
        (img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2]) = (r, g, b);
    }
}
