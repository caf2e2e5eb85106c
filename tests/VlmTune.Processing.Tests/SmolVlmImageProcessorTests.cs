using System.Text.Json;
using VlmTune.Images;
using VlmTune.Processing.Tests.Support;

namespace VlmTune.Processing.Tests;

public class SmolVlmImageProcessorTests
{
    public static TheoryData<string> ProcessorCases()
    {
        var data = new TheoryData<string>();
        foreach (JsonElement c in Cases()) data.Add(c.GetProperty("expected").GetString()!);
        return data;
    }

    static IEnumerable<JsonElement> Cases() =>
        ProcessorFixtures.Manifest("processor_cases.json").GetProperty("cases").EnumerateArray();

    static JsonElement Case(string expected) => Cases().Single(c => c.GetProperty("expected").GetString() == expected);

    static ImageProcessorConfig ConfigOf(JsonElement c) => new()
    {
        LongestEdge = c.GetProperty("longest_edge").GetInt32(),
        MaxImageSize = c.GetProperty("max_image_size").GetInt32(),
        DoResize = c.GetProperty("do_resize").GetBoolean(),
        DoImageSplitting = c.GetProperty("do_image_splitting").GetBoolean(),
        ImageSeqLen = 4,
    };

    [Theory]
    [MemberData(nameof(ProcessorCases))]
    public void Tiles_match_the_hf_slow_processor_byte_for_byte(string expectedPath)
    {
        JsonElement c = Case(expectedPath);
        RgbImage input = ProcessorFixtures.ReadPpm(c.GetProperty("input").GetString()!);
        RgbImage strip = ProcessorFixtures.ReadPpm(expectedPath);   // tiles stacked top to bottom
        var config = ConfigOf(c);
        int m = config.MaxImageSize;

        foreach (bool avx2 in new[] { true, false })
        {
            TiledImage tiled = new SmolVlmImageProcessor(config, avx2).Tile(input);
            Assert.Equal(c.GetProperty("rows").GetInt32(), tiled.Rows);
            Assert.Equal(c.GetProperty("cols").GetInt32(), tiled.Cols);
            Assert.Equal(c.GetProperty("tiles").GetInt32(), tiled.TileCount);
            Assert.Equal(strip.Height / m, tiled.TileCount);
            for (int i = 0; i < tiled.TileCount; i++)
            {
                RgbImage expected = Slice(strip, i, m);
                RgbImage actual = tiled.Tile(i);
                Assert.True(expected.Pixels.AsSpan().SequenceEqual(actual.Pixels),
                    $"{expectedPath} tile {i} (avx2={avx2}): {ProcessorFixtures.FirstDifference(expected, actual)}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(ProcessorCases))]
    public void Stage_sizes_match_the_hf_arithmetic(string expectedPath)
    {
        JsonElement c = Case(expectedPath);
        RgbImage input = ProcessorFixtures.ReadPpm(c.GetProperty("input").GetString()!);
        var config = ConfigOf(c);
        (int W, int H) size = (input.Width, input.Height);
        if (config.DoResize)
        {
            size = SmolVlmResizePlan.LongestEdge(size.W, size.H, config.LongestEdge);
            Assert.Equal(c.GetProperty("stage1")[0].GetInt32(), size.W);
            Assert.Equal(c.GetProperty("stage1")[1].GetInt32(), size.H);
        }
        if (config.DoImageSplitting)
        {
            size = SmolVlmResizePlan.MultipleOf(size.W, size.H, config.MaxImageSize);
            Assert.Equal(c.GetProperty("stage2")[0].GetInt32(), size.W);
            Assert.Equal(c.GetProperty("stage2")[1].GetInt32(), size.H);
        }
    }

    [Fact]
    public void Process_normalises_every_tile_into_planar_chw()
    {
        JsonElement c = Case("tiles/px100x80_L48M16.ppm");
        RgbImage input = ProcessorFixtures.ReadPpm(c.GetProperty("input").GetString()!);
        RgbImage strip = ProcessorFixtures.ReadPpm("tiles/px100x80_L48M16.ppm");
        var config = ConfigOf(c);
        int m = config.MaxImageSize;

        ProcessedImages result = new SmolVlmImageProcessor(config).Process([input, input]);
        int perImage = c.GetProperty("tiles").GetInt32();
        Assert.Equal(2 * perImage, result.TileCount);
        Assert.Equal(m, result.TileSize);
        Assert.Equal(new[] { c.GetProperty("rows").GetInt32(), c.GetProperty("rows").GetInt32() }, result.ImageRows);
        Assert.Equal(result.TileCount * 3 * m * m, result.PixelValues.Length);
        for (int n = 0; n < result.TileCount; n++)
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < m; y++)
                    for (int x = 0; x < m; x++)
                    {
                        byte u = strip.Pixels[(((n % perImage) * m + y) * m + x) * 3 + ch];
                        float actual = result.PixelValues[((n * 3 + ch) * m + y) * m + x];
                        Assert.Equal(u / 127.5f - 1f, actual);
                    }
    }

    [Fact]
    public void Spec_checklist_100x80_gives_17_tiles_of_512_and_1127_prompt_tokens()
    {
        // spec §7 item 4: 100×80 → 2048×1638 → 2048×2048 → [17, 3, 512, 512]; 1088 <image> tokens; 1127-token span.
        Assert.Equal((2048, 1638), SmolVlmResizePlan.LongestEdge(100, 80, 2048));
        Assert.Equal((2048, 2048), SmolVlmResizePlan.MultipleOf(2048, 1638, 512));
        var config = ImageProcessorConfig.SmolVlm256M;
        ProcessedImages result = new SmolVlmImageProcessor(config).Process([ProcessorFixtures.Synthetic(100, 80, seed: 5)]);
        Assert.Equal(17, result.TileCount);
        Assert.Equal(512, result.TileSize);
        Assert.Equal(17 * 3 * 512 * 512, result.PixelValues.Length);
        Assert.Equal([4], result.ImageRows);
        Assert.Equal([4], result.ImageCols);
        Assert.All(result.PixelValues, v => Assert.InRange(v, -1f, 1f));

        var expander = new ImagePromptExpander(config);
        Assert.Equal(1088, expander.ImageTokenCount(4, 4));
        string expanded = expander.Expand("<image>", result);
        Assert.Equal(1088, ImagePromptExpander.CountPlaceholders(expanded));
        Assert.Equal(1127, StructuralTokenizer.Count(expanded));
        Assert.Equal(1127, expander.StructuralTokenCount(4, 4));
    }

    [Fact]
    public void Without_splitting_the_image_is_squared_and_rows_cols_are_zero()
    {
        var config = ImageProcessorConfig.SmolVlm256M with { DoImageSplitting = false, LongestEdge = 64, MaxImageSize = 16 };
        TiledImage tiled = new SmolVlmImageProcessor(config).Tile(ProcessorFixtures.Synthetic(30, 20, seed: 2));
        Assert.Equal((0, 0, 1), (tiled.Rows, tiled.Cols, tiled.TileCount));
        Assert.Equal((16, 16), (tiled.Global.Width, tiled.Global.Height));
    }

    [Fact]
    public void Null_images_are_rejected_with_their_index()
    {
        var processor = new SmolVlmImageProcessor(ImageProcessorConfig.SmolVlm256M);
        var ex = Assert.Throws<ArgumentNullException>(() => processor.Process([new RgbImage(2, 2), null!]));
        Assert.Contains("image 1", ex.Message);
    }

    static RgbImage Slice(RgbImage strip, int index, int m) =>
        new(m, m, strip.Pixels.AsSpan(index * m * m * 3, m * m * 3).ToArray());
}
