using VlmTune.Images.Png;

namespace VlmTune.Images.Tests;

public class ImageDecoderTests
{
    [Fact]
    public void Unknown_format_names_the_file_and_the_format_never_the_bytes()
    {
        var e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode("BM6\0\0\0"u8, "photo.bmp"));
        Assert.Equal("photo.bmp: unsupported image format (BMP); only PNG and JPEG are supported", e.Message);
        // A text file (e.g. a link to /etc/passwd): neither its text nor its bytes in hex appear.
        e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode("root:x:0:0:root:/root:/bin/bash\n"u8, "passwd.png"));
        Assert.DoesNotContain("root", e.Message);
        Assert.DoesNotContain("72 6F", e.Message);
        Assert.Contains("the content is not shown", e.Message);
    }

    [Fact]
    public void Empty_data_is_an_unsupported_format()
    {
        var e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode(ReadOnlySpan<byte>.Empty, "empty.png"));
        Assert.Contains("the data is empty", e.Message);
    }

    [Fact]
    public void MaxPixels_is_enforced_before_decoding()
    {
        var data = ImageFixtures.Read("jpeg/base_420_48x40.jpg");
        var options = new DecodeOptions { MaxPixels = 48 * 40 - 1 };
        var e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode(data, "big.jpg", options));
        Assert.Contains("48x40 = 1920 pixels, more than the limit of 1919", e.Message);
        Assert.Equal(48, ImageDecoder.Decode(data, "ok.jpg", options with { MaxPixels = 1920 }).Width);

        var png = ImageFixtures.Read("png/im_plasma.png");
        Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode(png, "big.png", new DecodeOptions { MaxPixels = 100 }));
    }

    [Fact]
    public void Default_limit_is_Pillows_bomb_limit()
    {
        Assert.Equal(178_956_970, new DecodeOptions().MaxPixels);
        Assert.True(new DecodeOptions().ApplyExifOrientation);
    }

    [Fact]
    public void Exif_orientation_can_be_switched_off()
    {
        var data = ImageFixtures.Read("jpeg/exif_6.jpg");
        var rotated = ImageDecoder.Decode(data, "exif_6.jpg");
        var raw = ImageDecoder.Decode(data, "exif_6.jpg", new DecodeOptions { ApplyExifOrientation = false });
        Assert.Equal((13, 17), (rotated.Width, rotated.Height));
        Assert.Equal((17, 13), (raw.Width, raw.Height));
        Assert.Equal(ImageFixtures.ReadPpm("expected/exif_1.jpeg.ppm").Pixels, raw.Pixels);
    }

    [Fact]
    public void Load_reads_a_file_and_names_it_in_errors()
    {
        string dir = Directory.CreateTempSubdirectory("vlmtune-img-").FullName;
        try
        {
            string good = Path.Combine(dir, "a.png"), bad = Path.Combine(dir, "b.jpg");
            File.Copy(Path.Combine(ImageFixtures.Dir, "png/ct2_d8.png"), good);
            File.WriteAllBytes(bad, [0xFF, 0xD8, 0xFF, 0xE0]);
            Assert.Equal(17, ImageDecoder.Load(good).Width);
            var e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Load(bad));
            Assert.StartsWith(bad + ": ", e.Message);
            Assert.Throws<FileNotFoundException>(() => ImageDecoder.Load(Path.Combine(dir, "missing.png")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Custom_codec_list_is_the_seam()
    {
        var codec = new FakeCodec();
        var image = ImageDecoder.Decode("FAKE"u8, "x.fake", DecodeOptions.Default, [new PngCodec(), codec]);
        Assert.Equal(1, image.Width);
        Assert.True(codec.Called);
    }

    private sealed class FakeCodec : IImageCodec
    {
        public bool Called { get; private set; }
        public string FormatName => "FAKE";
        public bool CanDecode(ReadOnlySpan<byte> header) => header.StartsWith("FAKE"u8);

        public DecodedImage Decode(ReadOnlySpan<byte> data, string sourceName, DecodeOptions options)
        {
            Called = true;
            return DecodedImage.FromRgb(new RgbImage(1, 1));
        }
    }
}
