namespace VlmTune.Images.Tests;

/// <summary>
/// Every fixture in the manifest: pixel-exact against its expected PPM (Pillow's <c>Image.open(f).convert("RGB")</c>),
/// or the expected error.
/// </summary>
public class ImageDecoderFixtureTests
{
    public static TheoryData<string> Decodable() =>
        new(ImageFixtures.All.Where(e => e.Expected != null).Select(e => e.Input));

    public static TheoryData<string> Failing() =>
        new(ImageFixtures.All.Where(e => e.Error != null).Select(e => e.Input));

    [Theory]
    [MemberData(nameof(Decodable))]
    public void Decodes_pixel_exact(string input)
    {
        var entry = ImageFixtures.All.Single(e => e.Input == input);
        var expected = ImageFixtures.ReadPpm(entry.Expected!);
        var actual = ImageDecoder.Decode(ImageFixtures.Read(input), input);
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        int mismatches = 0, maxDiff = 0, first = -1;
        for (int i = 0; i < expected.Pixels.Length; i++)
        {
            int d = Math.Abs(expected.Pixels[i] - actual.Pixels[i]);
            if (d == 0) continue;
            mismatches++;
            maxDiff = Math.Max(maxDiff, d);
            if (first < 0) first = i;
        }
        Assert.True(mismatches == 0,
            $"{input}: {mismatches} of {expected.Pixels.Length} samples differ, max |diff| {maxDiff}, first at pixel " +
            $"({first / 3 % expected.Width}, {first / 3 / expected.Width}) channel {first % 3}: expected " +
            $"{(first >= 0 ? expected.Pixels[first] : 0)}, got {(first >= 0 ? actual.Pixels[first] : 0)} ({entry.Note})");
    }

    [Theory]
    [MemberData(nameof(Failing))]
    public void Refuses_with_a_clear_error(string input)
    {
        var entry = ImageFixtures.All.Single(e => e.Input == input);
        var e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode(ImageFixtures.Read(input), input));
        Assert.Contains(entry.Error!, e.Message);
        Assert.StartsWith(input + ": ", e.Message);
        Assert.Equal(input, e.SourceName);
    }

    [Fact]
    public void Every_colour_and_alpha_pair_composites_over_white_as_pillow()
    {
        var opened = ImageDecoder.Open(ImageFixtures.Read("png/alpha_all_pairs.png"), "alpha_all_pairs.png");
        Assert.Equal(ImageMode.Rgba, opened.Mode);
        var expected = ImageFixtures.ReadPpm("expected/alpha_all_pairs.white.ppm");
        Assert.Equal(expected.Pixels, WhiteBackground.Composite(opened).Pixels);
    }
}
