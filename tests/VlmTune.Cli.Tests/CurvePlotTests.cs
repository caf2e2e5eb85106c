using VlmTune.Images;

namespace VlmTune.Cli.Tests;

public class CurvePlotTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-plot-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }

    [Theory]
    [InlineData(0.0031, 8.33, new[] { 0.0, 2, 4, 6, 8, 10 })]
    [InlineData(1, 30, new[] { 0.0, 10, 20, 30 })]
    [InlineData(-0.02, 0.013, new[] { -0.02, -0.01, 0, 0.01, 0.02 })]
    public void Ticks_are_nice_round_numbers_covering_the_data(double lo, double hi, double[] expected)
    {
        var (ticks, first, last) = CurvePlot.Ticks(lo, hi);
        Assert.Equal(expected, ticks);
        Assert.True(first <= lo && last >= hi);
    }

    [Fact]
    public void A_plot_has_a_title_axis_labels_tick_labels_and_a_legend()
    {
        Directory.CreateDirectory(_tmp);
        string path = Path.Combine(_tmp, "loss.png");
        var train = Enumerable.Range(1, 50).Select(i => ((double)i, 8.0 / i)).ToList();
        CurvePlot.Save(path, [new("training loss", train, (31, 119, 180)), new("eval loss", [(25.0, 0.9), (50.0, 0.5)], (214, 39, 40))],
            "loss", "optimiser step", "loss");
        var img = ImageDecoder.Load(path);
        Assert.Equal((720, 420), (img.Width, img.Height));
        bool Dark(int x, int y) => img.Pixels[(y * img.Width + x) * 3] < 120 && img.Pixels[(y * img.Width + x) * 3 + 2] < 120;
        bool Any(int x0, int y0, int x1, int y1, Func<int, int, bool> f) =>
            Enumerable.Range(y0, y1 - y0).Any(y => Enumerable.Range(x0, x1 - x0).Any(x => f(x, y)));
        Assert.True(Any(300, 0, 420, 30, Dark), "title");
        Assert.True(Any(72, 400, 700, 420, Dark), "x-axis label");
        Assert.True(Any(0, 40, 20, 380, Dark), "y-axis label");
        Assert.True(Any(20, 40, 66, 380, Dark), "y tick labels");
        Assert.True(Any(60, 380, 700, 398, Dark), "x tick labels");
        // legend (top right) holds both series' colours
        bool Colour(int x, int y, byte r, byte g, byte b) => img.Pixels[(y * img.Width + x) * 3] == r && img.Pixels[(y * img.Width + x) * 3 + 1] == g && img.Pixels[(y * img.Width + x) * 3 + 2] == b;
        Assert.True(Any(520, 40, 702, 80, (x, y) => Colour(x, y, 31, 119, 180)), "legend: training loss");
        Assert.True(Any(520, 40, 702, 80, (x, y) => Colour(x, y, 214, 39, 40)), "legend: eval loss");
    }
}
