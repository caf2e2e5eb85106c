using System.Text.Json;
using VlmTune.Images;
using VlmTune.Processing.Resampling;
using VlmTune.Processing.Tests.Support;

namespace VlmTune.Processing.Tests.Resampling;

public class PillowResizeTests
{
    public static TheoryData<string> ResizeCases()
    {
        var data = new TheoryData<string>();
        foreach (JsonElement c in ProcessorFixtures.Manifest("resize_cases.json").GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("expected").GetString()!);
        return data;
    }

    static (RgbImage Input, int Width, int Height, ResampleFilter Filter, RgbImage Expected) Load(string expectedPath)
    {
        foreach (JsonElement c in ProcessorFixtures.Manifest("resize_cases.json").GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("expected").GetString() != expectedPath) continue;
            var filter = Enum.Parse<ResampleFilter>(c.GetProperty("filter").GetString()!, ignoreCase: true);
            return (ProcessorFixtures.ReadPpm(c.GetProperty("input").GetString()!), c.GetProperty("width").GetInt32(),
                    c.GetProperty("height").GetInt32(), filter, ProcessorFixtures.ReadPpm(expectedPath));
        }
        throw new KeyNotFoundException(expectedPath);
    }

    [Theory]
    [MemberData(nameof(ResizeCases))]
    public void Matches_pillow_byte_for_byte(string expectedPath)
    {
        var (input, width, height, filter, expected) = Load(expectedPath);
        RgbImage actual = PillowResize.Resize(input, width, height, filter);
        Assert.True(expected.Pixels.AsSpan().SequenceEqual(actual.Pixels), $"{expectedPath}: {ProcessorFixtures.FirstDifference(expected, actual)}");
    }

    [Theory]
    [MemberData(nameof(ResizeCases))]
    public void Scalar_reference_matches_pillow_byte_for_byte(string expectedPath)
    {
        var (input, width, height, filter, expected) = Load(expectedPath);
        RgbImage actual = PillowResize.ResizeOrSame(input, width, height, filter, useAvx2: false);
        Assert.True(expected.Pixels.AsSpan().SequenceEqual(actual.Pixels), $"{expectedPath}: {ProcessorFixtures.FirstDifference(expected, actual)}");
    }

    [Theory]
    [InlineData(2048, 1638, 512, 512, ResampleFilter.Lanczos)]
    [InlineData(100, 80, 2048, 1638, ResampleFilter.Lanczos)]
    [InlineData(301, 97, 1024, 33, ResampleFilter.Lanczos)]
    [InlineData(33, 301, 7, 1000, ResampleFilter.Bicubic)]
    [InlineData(257, 129, 64, 64, ResampleFilter.Bilinear)]
    [InlineData(5, 3, 7, 2, ResampleFilter.Hamming)]
    [InlineData(77, 77, 13, 140, ResampleFilter.Box)]
    public void Avx2_matches_scalar_reference(int srcWidth, int srcHeight, int width, int height, ResampleFilter filter)
    {
        if (!ResamplePassAvx2.IsSupported) return;
        RgbImage src = ProcessorFixtures.Synthetic(srcWidth, srcHeight, seed: srcWidth * 31 + height);
        RgbImage reference = PillowResize.ResizeOrSame(src, width, height, filter, useAvx2: false);
        RgbImage fast = PillowResize.ResizeOrSame(src, width, height, filter, useAvx2: true);
        Assert.True(reference.Pixels.AsSpan().SequenceEqual(fast.Pixels), ProcessorFixtures.FirstDifference(reference, fast));
    }

    [Fact]
    public void Same_size_returns_an_equal_copy()
    {
        RgbImage src = ProcessorFixtures.Synthetic(9, 4, seed: 1);
        RgbImage copy = PillowResize.Lanczos(src, 9, 4);
        Assert.NotSame(src, copy);
        Assert.NotSame(src.Pixels, copy.Pixels);
        Assert.Equal(src.Pixels, copy.Pixels);
    }

    [Fact]
    public void Lanczos_taps_match_pillow_fixed_point_rules()
    {
        // Downscale 2048 → 512: support 3·4 = 12, so at most 2·12+1 taps; each row of taps sums to ≈ 2^22.
        var k = ResampleCoefficients.Compute(2048, 512, ResampleFilter.Lanczos);
        Assert.Equal(25, k.KernelSize);
        for (int o = 0; o < k.OutSize; o++)
        {
            long sum = 0;
            for (int t = 0; t < k.Count[o]; t++) sum += k.Taps[o * k.KernelSize + t];
            Assert.InRange(sum, (1 << 22) - k.Count[o], (1 << 22) + k.Count[o]);
        }
        Assert.Equal(0, k.First[0]);
        Assert.Equal(2048, k.First[511] + k.Count[511]);
    }

    [Theory]
    [InlineData(ResampleFilter.Nearest)]
    [InlineData((ResampleFilter)9)]
    public void Unsupported_filters_are_rejected(ResampleFilter filter)
    {
        var ex = Assert.Throws<NotSupportedException>(() => PillowResize.Resize(new RgbImage(2, 2), 3, 3, filter));
        Assert.Contains("not supported", ex.Message);
    }

    [Fact]
    public void Non_positive_target_sizes_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PillowResize.Lanczos(new RgbImage(2, 2), 0, 3));
    }
}
