using VlmTune.Images.Png;

namespace VlmTune.Images.Tests.Png;

public class PngEncoderTests
{
    private static RgbImage Noise(int w, int h, int seed)
    {
        var px = new byte[w * h * 3];
        var rng = new Random(seed);
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(i % 7 == 0 ? rng.Next(256) : (i / 3 % w) * 5 + i % 3 * 40);
        return new RgbImage(w, h, px);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(17, 13)]
    [InlineData(300, 7)]
    public void Rgb_round_trips(int w, int h)
    {
        var image = Noise(w, h, w * 31 + h);
        var decoded = ImageDecoder.Decode(PngEncoder.Encode(image), "roundtrip.png");
        Assert.Equal((w, h), (decoded.Width, decoded.Height));
        Assert.Equal(image.Pixels, decoded.Pixels);
    }

    [Fact]
    public void Rgba_is_written_and_read_back_with_its_alpha()
    {
        byte[] rgba = [10, 20, 30, 255, 10, 20, 30, 0, 200, 100, 0, 128];
        byte[] png = PngEncoder.EncodeRgba(3, 1, rgba);
        var opened = ImageDecoder.Open(png, "rgba.png");
        Assert.Equal(ImageMode.Rgba, opened.Mode);
        Assert.Equal(rgba, opened.Samples);
        // Decode is Pillow's convert("RGB"): alpha dropped, the colour under a transparent pixel kept.
        Assert.Equal(new byte[] { 10, 20, 30, 10, 20, 30, 200, 100, 0 }, ImageDecoder.Decode(png, "rgba.png").Pixels);
        // Over white as Pillow's alpha_composite: a=128 gives round(c·128/255 + 255·127/255).
        Assert.Equal(new byte[] { 10, 20, 30, 255, 255, 255, 227, 177, 127 }, WhiteBackground.Composite(opened).Pixels);
    }

    [Fact]
    public void EncodeRgba_checks_the_buffer_size()
    {
        var e = Assert.Throws<ArgumentException>(() => PngEncoder.EncodeRgba(2, 2, new byte[15]));
        Assert.Contains("expected 2x2x4 = 16 bytes, got 15", e.Message);
    }

    [Fact]
    public void Save_is_atomic_and_overwrites()
    {
        string dir = Directory.CreateTempSubdirectory("vlmtune-png-").FullName;
        try
        {
            string path = Path.Combine(dir, "plot.png");
            PngEncoder.Save(Noise(5, 4, 1), path);
            var second = Noise(9, 3, 2);
            PngEncoder.Save(second, path);
            Assert.Equal(second.Pixels, ImageDecoder.Load(path).Pixels);
            Assert.Equal(["plot.png"], Directory.GetFiles(dir).Select(Path.GetFileName));   // no temp file left
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Output_is_a_valid_png_that_keeps_rows_within_one_chunk_stream()
    {
        var bytes = PngEncoder.Encode(Noise(64, 64, 3));
        Assert.True(new PngCodec().CanDecode(bytes));
        Assert.Equal("IHDR"u8.ToArray(), bytes[12..16]);
        Assert.Equal("IEND"u8.ToArray(), bytes[^8..^4]);
    }
}
