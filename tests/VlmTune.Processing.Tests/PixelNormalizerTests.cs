using System.Text.Json;
using VlmTune.Processing.Tests.Support;

namespace VlmTune.Processing.Tests;

public class PixelNormalizerTests
{
    [Theory]
    [InlineData("smolvlm")]
    [InlineData("imagenet")]
    [InlineData("norescale")]
    [InlineData("rescaleonly")]
    public void Matches_hf_rescale_then_normalise_bit_for_bit_on_all_256_values(string name)
    {
        JsonElement c = ProcessorFixtures.Manifest("normalize.json").GetProperty("cases").EnumerateArray()
            .Single(e => e.GetProperty("name").GetString() == name);
        var config = new ImageProcessorConfig
        {
            DoRescale = c.GetProperty("do_rescale").GetBoolean(),
            RescaleFactor = c.GetProperty("rescale_factor").GetDouble(),
            DoNormalize = c.GetProperty("do_normalize").GetBoolean(),
            ImageMean = c.GetProperty("image_mean").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            ImageStd = c.GetProperty("image_std").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
        };
        var normalizer = new PixelNormalizer(config);
        for (int ch = 0; ch < 3; ch++)
        {
            uint[] expected = c.GetProperty("float32_bits")[ch].EnumerateArray().Select(e => e.GetUInt32()).ToArray();
            for (int u = 0; u < 256; u++)
                Assert.True(BitConverter.SingleToUInt32Bits(normalizer.Normalize((byte)u, ch)) == expected[u],
                    $"{name} channel {ch} value {u}: got {normalizer.Normalize((byte)u, ch):R}, expected {BitConverter.UInt32BitsToSingle(expected[u]):R}");
        }
    }

    [Fact]
    public void Smolvlm_settings_equal_u_over_127_5_minus_1()
    {
        var normalizer = new PixelNormalizer(ImageProcessorConfig.SmolVlm256M);
        for (int u = 0; u < 256; u++)
            for (int ch = 0; ch < 3; ch++)
                Assert.Equal(u / 127.5f - 1f, normalizer.Normalize((byte)u, ch));
    }

    [Fact]
    public void Planar_layout_is_channel_major()
    {
        var normalizer = new PixelNormalizer(ImageProcessorConfig.SmolVlm256M);
        // A 3×2 image; take the 2×2 window at x = 1.
        byte[] src = [0, 1, 2, 10, 11, 12, 20, 21, 22,
                      30, 31, 32, 40, 41, 42, 50, 51, 52];
        var dst = new float[12];
        normalizer.ToPlanar(src, 3, 1, 0, 2, dst);
        float N(int u) => u / 127.5f - 1f;
        Assert.Equal([N(10), N(20), N(40), N(50), N(11), N(21), N(41), N(51), N(12), N(22), N(42), N(52)], dst);
    }

    [Theory]
    [InlineData(16, 0, 0)]
    [InlineData(13, 5, 3)]
    [InlineData(8, 29, 1)]
    public void Avx2_planar_matches_the_scalar_loop(int tileSize, int x0, int y0)
    {
        var config = new ImageProcessorConfig { ImageMean = [0.485, 0.456, 0.406], ImageStd = [0.229, 0.224, 0.225] };
        var image = ProcessorFixtures.Synthetic(37, 21, seed: 9);
        var scalar = new float[3 * tileSize * tileSize];
        var fast = new float[3 * tileSize * tileSize];
        new PixelNormalizer(config, useAvx2: false).ToPlanar(image.Pixels, image.Width, x0, y0, tileSize, scalar);
        new PixelNormalizer(config, useAvx2: true).ToPlanar(image.Pixels, image.Width, x0, y0, tileSize, fast);
        Assert.Equal(scalar, fast);
    }

    [Fact]
    public void Windows_outside_the_source_are_rejected()
    {
        var normalizer = new PixelNormalizer(ImageProcessorConfig.SmolVlm256M);
        Assert.Throws<ArgumentException>(() => normalizer.ToPlanar(new byte[4 * 4 * 3], 4, 1, 0, 4, new float[48]));
        Assert.Throws<ArgumentException>(() => normalizer.ToPlanar(new byte[4 * 4 * 3], 4, 0, 0, 4, new float[47]));
    }
}
