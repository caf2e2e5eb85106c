using System.IO.Compression;

namespace VlmTune.Images.Png;

/// <summary>
/// Managed PNG decoder: every colour type and bit depth, PLTE + tRNS, colour-key tRNS, Adam7, all five filters,
/// multiple IDAT chunks, CRC checks on every chunk, exact inflated length. The output holds the samples of the mode
/// Pillow 9.4's <c>Image.open</c> gives (see <see cref="PngRasterizer"/>), so <see cref="DecodedImage.ToRgb"/> equals
/// Pillow's <c>Image.open(f).convert("RGB")</c> for every colour type and bit depth. gAMA/cHRM/iCCP are ignored, as
/// Pillow ignores them.
/// </summary>
public sealed class PngCodec : IImageCodec
{
    public string FormatName => "PNG";

    public bool CanDecode(ReadOnlySpan<byte> header) =>
        header.Length >= 8 && header[..8].SequenceEqual(PngChunkReader.Signature);

    public DecodedImage Decode(ReadOnlySpan<byte> data, string sourceName, DecodeOptions options)
    {
        var png = PngChunkReader.Read(data, sourceName);
        var h = png.Header;
        ImageDecoder.CheckPixelLimit(h.Width, h.Height, sourceName, options);
        long expected = PngRasterizer.ExpectedRawLength(h);
        if (expected > Array.MaxLength)
            throw new ImageFormatException(sourceName, $"image data of {expected} bytes is too large to decode");
        byte[] raw = Inflate(png, (int)expected, sourceName);
        var image = PngRasterizer.ToImage(png, raw, sourceName);
        if (options.ApplyExifOrientation && png.Exif != null)
            image = ExifOrientation.Apply(image, ExifOrientation.Read(png.Exif));
        return image;
    }

    private static byte[] Inflate(PngContents png, int expected, string source)
    {
        var raw = new byte[expected];
        png.ImageData.Position = 0;
        try
        {
            using var z = new ZLibStream(png.ImageData, CompressionMode.Decompress);
            int got = 0;
            while (got < expected)
            {
                int n = z.Read(raw, got, expected - got);
                if (n == 0)
                    throw new ImageFormatException(source,
                        $"decompressed image data is too short: {got} of {expected} bytes (truncated or corrupt IDAT)",
                        png.FirstIdatOffset);
                got += n;
            }
            if (z.ReadByte() >= 0)
                throw new ImageFormatException(source,
                    $"decompressed image data is longer than the {expected} bytes that IHDR implies", png.FirstIdatOffset);
        }
        catch (InvalidDataException e)
        {
            throw new ImageFormatException(source, $"corrupt zlib data in IDAT: {e.Message}", png.FirstIdatOffset, e);
        }
        return raw;
    }
}
