using System.Text.Json;
using VlmTune.Processing.Tests.Support;

namespace VlmTune.Processing.Tests;

public class SmolVlmResizePlanTests
{
    [Fact]
    public void Real_checkpoint_settings_match_the_hf_arithmetic()
    {
        // shapes.json: 256M (2048 / 512, n = 64) and 2.2B (1536 / 384, n = 81) settings over 23 input sizes.
        int checkedCases = 0;
        foreach (JsonElement c in ProcessorFixtures.Manifest("shapes.json").GetProperty("cases").EnumerateArray())
        {
            int w = c.GetProperty("width").GetInt32(), h = c.GetProperty("height").GetInt32();
            int l = c.GetProperty("longest_edge").GetInt32(), m = c.GetProperty("max_image_size").GetInt32();
            string name = $"{w}x{h} L={l} M={m}";
            var s1 = SmolVlmResizePlan.LongestEdge(w, h, l);
            var s2 = SmolVlmResizePlan.MultipleOf(s1.Width, s1.Height, m);
            var grid = SmolVlmResizePlan.Grid(s2.Width, s2.Height, m);
            Assert.True(s1 == (c.GetProperty("stage1")[0].GetInt32(), c.GetProperty("stage1")[1].GetInt32()), $"{name}: stage 1 {s1}");
            Assert.True(s2 == (c.GetProperty("stage2")[0].GetInt32(), c.GetProperty("stage2")[1].GetInt32()), $"{name}: stage 2 {s2}");
            Assert.True(grid == (c.GetProperty("rows").GetInt32(), c.GetProperty("cols").GetInt32()), $"{name}: grid {grid}");
            var expander = new ImagePromptExpander(c.GetProperty("image_seq_len").GetInt32());
            Assert.Equal(c.GetProperty("image_tokens").GetInt32(), expander.ImageTokenCount(grid.Rows, grid.Cols));
            checkedCases++;
        }
        Assert.Equal(46, checkedCases);
    }

    [Fact]
    public void Stage_one_uses_double_precision_like_python()
    {
        // spec §9.1: 512×75 with the 2.2B settings gives 224 (exact arithmetic would give 226).
        Assert.Equal((1536, 224), SmolVlmResizePlan.LongestEdge(512, 75, 1536));
        Assert.Equal((226, 1536), SmolVlmResizePlan.LongestEdge(75, 512, 1536));
    }

    [Theory]
    [InlineData(1024, 768, 2048, 1536, 3, 4)]
    [InlineData(1, 1, 2048, 2048, 4, 4)]
    [InlineData(5000, 10, 2048, 512, 1, 4)]
    public void Tile_grid_for_the_256m_settings(int w, int h, int w2, int h2, int rows, int cols)
    {
        var s1 = SmolVlmResizePlan.LongestEdge(w, h, 2048);
        Assert.Equal((w2, h2), SmolVlmResizePlan.MultipleOf(s1.Width, s1.Height, 512));
        Assert.Equal((rows, cols), SmolVlmResizePlan.Grid(w2, h2, 512));
    }

    [Fact]
    public void Non_positive_sizes_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SmolVlmResizePlan.LongestEdge(0, 5, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => SmolVlmResizePlan.MultipleOf(5, 5, 0));
    }
}
