using System.Buffers.Binary;
using System.IO.Compression;

namespace VlmTune.Images.Png;

/// <summary>
/// Writes 8-bit RGB (colour type 2) or RGBA (colour type 6) PNGs, non-interlaced. Each row takes the filter with the
/// smallest sum of absolute signed bytes (libpng's heuristic); the stream is one ZLibStream split into 64 KiB IDATs.
/// </summary>
public static class PngEncoder
{
    private const int IdatChunkSize = 64 * 1024;

    public static byte[] Encode(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Encode(image.Width, image.Height, image.Pixels, channels: 3);
    }

    /// <param name="rgba">width × height × 4 bytes, rows top to bottom, R,G,B,A interleaved.</param>
    public static byte[] EncodeRgba(int width, int height, ReadOnlySpan<byte> rgba)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}x{height}");
        if (rgba.Length != (long)width * height * 4)
            throw new ArgumentException($"expected {width}x{height}x4 = {(long)width * height * 4} bytes, got {rgba.Length}",
                nameof(rgba));
        return Encode(width, height, rgba, channels: 4);
    }

    /// <summary>Encodes and writes atomically: a temporary file in the same folder, then a rename over the target.</summary>
    public static void Save(RgbImage image, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        WriteAtomically(path, Encode(image));
    }

    internal static void WriteAtomically(string path, byte[] bytes)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                f.Write(bytes);
                f.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static byte[] Encode(int width, int height, ReadOnlySpan<byte> pixels, int channels)
    {
        int stride = width * channels;
        var filtered = new MemoryStream();
        using (var z = new ZLibStream(filtered, CompressionLevel.Optimal, leaveOpen: true))
        {
            var candidate = new byte[stride];
            var best = new byte[stride + 1];
            for (int y = 0; y < height; y++)
            {
                var row = pixels.Slice(y * stride, stride);
                var prior = y == 0 ? default : pixels.Slice((y - 1) * stride, stride);
                long bestScore = long.MaxValue;
                for (int f = 0; f < 5; f++)
                {
                    PngFilters.Filter(f, row, prior, channels, candidate);
                    long score = 0;
                    foreach (byte b in candidate) score += b < 128 ? b : 256 - b;   // |signed byte|
                    if (score < bestScore)
                    {
                        bestScore = score;
                        best[0] = (byte)f;
                        candidate.CopyTo(best, 1);
                    }
                }
                z.Write(best);
            }
        }

        var output = new MemoryStream();
        output.Write(PngChunkReader.Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr[4..], (uint)height);
        ihdr[8] = 8;
        ihdr[9] = (byte)(channels == 3 ? 2 : 6);
        ihdr[10] = ihdr[11] = ihdr[12] = 0;
        WriteChunk(output, "IHDR"u8, ihdr);
        var data = filtered.GetBuffer().AsSpan(0, (int)filtered.Length);
        for (int at = 0; at < data.Length; at += IdatChunkSize)
            WriteChunk(output, "IDAT"u8, data.Slice(at, Math.Min(IdatChunkSize, data.Length - at)));
        WriteChunk(output, "IEND"u8, default);
        return output.ToArray();
    }

    private static void WriteChunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)body.Length);
        s.Write(word);
        s.Write(type);
        s.Write(body);
        uint crc = Crc32.Update(Crc32.Update(0xFFFFFFFFu, type), body) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        s.Write(word);
    }
}
