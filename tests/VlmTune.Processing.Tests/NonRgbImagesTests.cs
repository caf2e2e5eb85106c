using System.Text.Json;
using VlmTune.Images;
using VlmTune.Processing.Tests.Support;

namespace VlmTune.Processing.Tests;

/// <summary>
/// Non-RGB PNGs (RGBA, LA, P, P + tRNS, L, 16-bit gray, 1-bit, colour keys) through the processor as transformers 5.x
/// and 4.x run it, against tests/fixtures/processor/nonrgb/ (Pillow 9.4 + numpy re-running transformers' steps:
/// tests/reference/processor/make_nonrgb_fixtures.py). The uint8 tiles must be identical; rescale/normalise after them
/// is a per-value table checked bit for bit elsewhere (PixelNormalizerTests).
/// </summary>
public class NonRgbImagesTests
{
    const string Generator = "tests/reference/processor/make_nonrgb_fixtures.py";

    static JsonElement Manifest()
    {
        string path = ProcessorFixtures.PathOf("nonrgb/cases.json");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement root = doc.RootElement.Clone();
        if (root.GetProperty("generator").GetString() != Generator || root.GetProperty("format_version").GetInt32() != 1)
            throw new InvalidDataException($"{path}: unexpected generator/format; re-run /usr/bin/python3 {Generator}");
        return root;
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (JsonElement c in Manifest().GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("input").GetString()!, c.GetProperty("behaviour").GetString()!);
        return data;
    }

    static SmolVlmImageProcessor Processor(JsonElement manifest, string behaviour, bool avx2) => new(new ImageProcessorConfig
    {
        LongestEdge = manifest.GetProperty("longest_edge").GetInt32(),
        MaxImageSize = manifest.GetProperty("max_image_size").GetInt32(),
        NonRgbImages = behaviour == "t4" ? NonRgbImages.Transformers4 : NonRgbImages.Transformers5,
    }, avx2);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Tiles_equal_transformers_with_pillow(string input, string behaviour)
    {
        JsonElement manifest = Manifest();
        JsonElement c = manifest.GetProperty("cases").EnumerateArray()
            .Single(e => e.GetProperty("input").GetString() == input && e.GetProperty("behaviour").GetString() == behaviour);
        byte[] png = File.ReadAllBytes(ProcessorFixtures.PathOf("nonrgb/" + input));
        DecodedImage image = ImageDecoder.Open(png, input);
        Assert.Equal(c.GetProperty("pillow_mode").GetString(), PillowModeName(image.Mode));
        Assert.Equal((image.Width, image.Height, image.Mode), ImageHeader.Read(png, input));   // the planning pass knows the mode
        foreach (bool avx2 in new[] { true, false })
        {
            var processor = Processor(manifest, behaviour, avx2);
            if (c.TryGetProperty("error", out JsonElement error))
            {
                var e = Assert.Throws<UnsupportedImageException>(() => processor.Tile(image));
                Assert.Contains(error.GetString()!, e.Message);
                continue;
            }
            TiledImage tiled = processor.Tile(image);
            int m = processor.Config.MaxImageSize;
            RgbImage strip = ProcessorFixtures.ReadPpm("nonrgb/" + c.GetProperty("expected").GetString());
            Assert.Equal((c.GetProperty("rows").GetInt32(), c.GetProperty("cols").GetInt32()), (tiled.Rows, tiled.Cols));
            Assert.Equal(c.GetProperty("tiles").GetInt32(), tiled.TileCount);
            for (int i = 0; i < tiled.TileCount; i++)
            {
                var expected = new RgbImage(m, m, strip.Pixels.AsSpan(i * m * m * 3, m * m * 3).ToArray());
                RgbImage actual = tiled.Tile(i);
                Assert.True(expected.Pixels.AsSpan().SequenceEqual(actual.Pixels),
                    $"{input} {behaviour} ({c.GetProperty("pillow_mode").GetString()}) tile {i} avx2={avx2}: " +
                    ProcessorFixtures.FirstDifference(expected, actual));
            }
        }
    }

    /// <summary>The name Pillow 9.4 gives the mode (16-bit gray is "I" there, "I;16" in later releases).</summary>
    static string PillowModeName(ImageMode mode) => mode switch
    {
        ImageMode.Rgb => "RGB",
        ImageMode.Rgba => "RGBA",
        ImageMode.Gray => "L",
        ImageMode.GrayAlpha => "LA",
        ImageMode.Palette => "P",
        ImageMode.Gray16 => "I",
        _ => "1",
    };

    [Fact]
    public void The_default_is_transformers_5()
    {
        Assert.Equal(NonRgbImages.Transformers5, new ImageProcessorConfig().NonRgbImages);
        Assert.Equal(NonRgbImages.Transformers5, ImageProcessorConfig.FromJson("{}").NonRgbImages);
    }
}
