using System.Globalization;
using VlmTune.Images;
using VlmTune.Images.Png;

namespace VlmTune.Cli;

/// <summary>One named curve of a plot: points (x, y) and an RGB colour.</summary>
public sealed record CurveSeries(string Name, IReadOnlyList<(double X, double Y)> Points, (byte R, byte G, byte B) Colour);

/// <summary>
/// Line charts as PNG for the loss and DPO reward curves: white background, a title, both axes with "nice" ticks
/// (1, 2, 5 × 10^k), tick labels, axis labels, light grid lines, one coloured polyline per series and a legend
/// naming them. Non-finite points are skipped.
/// </summary>
public static class CurvePlot
{
    const int Left = 72, Right = 18, Top = 34, Bottom = 48;
    static readonly (byte, byte, byte) Ink = (40, 40, 40), Axis = (110, 110, 110), Grid = (228, 228, 228);

    public static void Save(string path, IReadOnlyList<CurveSeries> series, string title, string xLabel, string yLabel,
        int width = 720, int height = 420)
    {
        var all = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Y) && double.IsFinite(p.X)).ToList();
        if (all.Count < 2) return;
        var img = new RgbImage(width, height);
        Array.Fill(img.Pixels, (byte)255);
        var (xTicks, x0, x1) = Ticks(all.Min(p => p.X), all.Max(p => p.X));
        var (yTicks, y0, y1) = Ticks(all.Min(p => p.Y), all.Max(p => p.Y));
        int plotW = width - Left - Right, plotH = height - Top - Bottom;
        int Px(double x) => Left + (int)Math.Round((x - x0) / (x1 - x0) * plotW);
        int Py(double y) => Top + plotH - (int)Math.Round((y - y0) / (y1 - y0) * plotH);

        string yFormat = Format(yTicks), xFormat = Format(xTicks);
        foreach (double t in yTicks)
        {
            int gy = Py(t);
            Line(img, Left, gy, Left + plotW, gy, Grid, 1);
            Line(img, Left - 5, gy, Left, gy, Axis, 1);
            string label = t.ToString(yFormat, CultureInfo.InvariantCulture);
            PlotFont.Draw(img, label, Left - 8 - PlotFont.Measure(label), gy - PlotFont.Height / 2, Ink);
        }
        foreach (double t in xTicks)
        {
            int gx = Px(t);
            Line(img, gx, Top, gx, Top + plotH, Grid, 1);
            Line(img, gx, Top + plotH, gx, Top + plotH + 5, Axis, 1);
            string label = t.ToString(xFormat, CultureInfo.InvariantCulture);
            PlotFont.Draw(img, label, gx - PlotFont.Measure(label) / 2, Top + plotH + 8, Ink);
        }
        Line(img, Left, Top, Left, Top + plotH, Axis, 1);
        Line(img, Left, Top + plotH, Left + plotW, Top + plotH, Axis, 1);

        foreach (var s in series)
            for (int i = 1; i < s.Points.Count; i++)
                if (double.IsFinite(s.Points[i - 1].Y) && double.IsFinite(s.Points[i].Y))
                    Line(img, Px(s.Points[i - 1].X), Py(s.Points[i - 1].Y), Px(s.Points[i].X), Py(s.Points[i].Y), s.Colour, 2);
        foreach (var s in series.Where(s => s.Points.Count == 1 && double.IsFinite(s.Points[0].Y)))
            Dot(img, Px(s.Points[0].X), Py(s.Points[0].Y), s.Colour);

        PlotFont.Draw(img, title, (width - PlotFont.Measure(title)) / 2, 10, Ink);
        PlotFont.Draw(img, xLabel, Left + (plotW - PlotFont.Measure(xLabel)) / 2, height - PlotFont.Height - 6, Ink);
        PlotFont.Draw(img, yLabel, 8, Top + (plotH + PlotFont.Measure(yLabel)) / 2, Ink, vertical: true);
        Legend(img, series.Where(s => s.Points.Count > 0).ToList(), Left + plotW - 8, Top + 8);
        PngEncoder.Save(img, path);
    }

    /// <summary>Ticks at a 1/2/5×10^k step covering [lo, hi] in about five intervals, and the axis range they span.</summary>
    public static (double[] Ticks, double Lo, double Hi) Ticks(double lo, double hi)
    {
        if (hi <= lo) (lo, hi) = (lo - 0.5 * Math.Max(1, Math.Abs(lo)), hi + 0.5 * Math.Max(1, Math.Abs(hi)));
        double raw = (hi - lo) / 5, mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * mag).First(s => s >= raw * 0.999);
        double first = Math.Floor(lo / step + 1e-9) * step, last = Math.Ceiling(hi / step - 1e-9) * step;
        int n = (int)Math.Round((last - first) / step);
        return (Enumerable.Range(0, n + 1).Select(i => Math.Round(first + i * step, 12)).ToArray(), first, last);
    }

    /// <summary>Enough decimals to tell the ticks apart, none more.</summary>
    static string Format(double[] ticks)
    {
        double step = ticks.Length > 1 ? ticks[1] - ticks[0] : 1;
        int decimals = Math.Clamp((int)Math.Ceiling(-Math.Log10(step) - 1e-9), 0, 6);
        return "F" + decimals.ToString(CultureInfo.InvariantCulture);
    }

    static void Legend(RgbImage img, IReadOnlyList<CurveSeries> series, int right, int top)
    {
        if (series.Count == 0) return;
        int textW = series.Max(s => PlotFont.Measure(s.Name));
        int w = 10 + 22 + 6 + textW + 10, h = 8 + series.Count * (PlotFont.Height + 4) + 4, x = right - w;
        for (int yy = top; yy < top + h; yy++)
            for (int xx = x; xx < x + w; xx++) Plot(img, xx, yy, (255, 255, 255));
        Line(img, x, top, x + w, top, Axis, 1);
        Line(img, x, top + h, x + w, top + h, Axis, 1);
        Line(img, x, top, x, top + h, Axis, 1);
        Line(img, x + w, top, x + w, top + h, Axis, 1);
        for (int i = 0; i < series.Count; i++)
        {
            int rowY = top + 8 + i * (PlotFont.Height + 4);
            Line(img, x + 10, rowY + PlotFont.Height / 2, x + 32, rowY + PlotFont.Height / 2, series[i].Colour, 2);
            PlotFont.Draw(img, series[i].Name, x + 38, rowY, Ink);
        }
    }

    static void Dot(RgbImage img, int x, int y, (byte, byte, byte) c)
    {
        for (int dy = -3; dy <= 3; dy++)
            for (int dx = -3; dx <= 3; dx++)
                if (dx * dx + dy * dy <= 9) Plot(img, x + dx, y + dy, c);
    }

    /// <summary>Bresenham line, <paramref name="thickness"/> px.</summary>
    static void Line(RgbImage img, int xa, int ya, int xb, int yb, (byte, byte, byte) c, int thickness)
    {
        int dx = Math.Abs(xb - xa), dy = -Math.Abs(yb - ya), sx = xa < xb ? 1 : -1, sy = ya < yb ? 1 : -1, err = dx + dy;
        while (true)
        {
            for (int t = 0; t < thickness; t++) Plot(img, xa + (dx > -dy ? 0 : t), ya + (dx > -dy ? t : 0), c);
            if (xa == xb && ya == yb) break;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; xa += sx; }
            if (e2 <= dx) { err += dx; ya += sy; }
        }
    }

    static void Plot(RgbImage img, int x, int y, (byte R, byte G, byte B) c)
    {
        if ((uint)x >= (uint)img.Width || (uint)y >= (uint)img.Height) return;
        int i = (y * img.Width + x) * 3;
        (img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2]) = c;
    }
}
