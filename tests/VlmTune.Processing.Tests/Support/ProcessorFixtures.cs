using System.Text;
using System.Text.Json;
using VlmTune.Images;

namespace VlmTune.Processing.Tests.Support;

/// <summary>
/// Reads tests/fixtures/processor/ (written by tests/reference/processor/make_fixtures.py with Debian Pillow 9.4):
/// binary PPM (P6) images and the JSON manifests.
/// </summary>
internal static class ProcessorFixtures
{
    public const string Generator = "tests/reference/processor/make_fixtures.py";
    static readonly Lazy<string> Root = new(FindDirectory);

    public static string Directory => Root.Value;

    public static string PathOf(string relative) => System.IO.Path.Combine(Directory, relative);

    public static JsonElement Manifest(string file)
    {
        string path = PathOf(file);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement root = doc.RootElement.Clone();
        string generator = root.GetProperty("generator").GetString() ?? "";
        if (generator != Generator || root.GetProperty("format_version").GetInt32() != 1)
            throw new InvalidDataException($"{path}: unexpected generator/format; re-run /usr/bin/python3 {Generator}");
        return root;
    }

    public static RgbImage ReadPpm(string relative)
    {
        string path = PathOf(relative);
        byte[] bytes = File.ReadAllBytes(path);
        int pos = 0;
        string magic = Token(bytes, ref pos, path);
        int width = int.Parse(Token(bytes, ref pos, path));
        int height = int.Parse(Token(bytes, ref pos, path));
        int max = int.Parse(Token(bytes, ref pos, path));
        if (magic != "P6" || max != 255)
            throw new InvalidDataException($"{path}: expected a binary 8-bit PPM (P6, maxval 255), got {magic} maxval {max}");
        pos++; // the single whitespace byte after maxval
        int length = width * height * 3;
        if (bytes.Length - pos != length)
            throw new InvalidDataException($"{path}: expected {length} pixel bytes after the header at offset {pos}, found {bytes.Length - pos}");
        return new RgbImage(width, height, bytes.AsSpan(pos, length).ToArray());
    }

    static string Token(byte[] bytes, ref int pos, string path)
    {
        while (pos < bytes.Length && (char.IsWhiteSpace((char)bytes[pos]) || bytes[pos] == (byte)'#'))
        {
            if (bytes[pos] == (byte)'#')
                while (pos < bytes.Length && bytes[pos] != (byte)'\n') pos++;   // a header comment runs to the end of line
            else
                pos++;
        }
        int start = pos;
        while (pos < bytes.Length && !char.IsWhiteSpace((char)bytes[pos])) pos++;
        if (start == pos) throw new InvalidDataException($"{path}: truncated PPM header at offset {start}");
        return Encoding.ASCII.GetString(bytes, start, pos - start);
    }

    static string FindDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "VlmTune.sln")))
                return System.IO.Path.Combine(dir.FullName, "tests", "fixtures", "processor");
        throw new DirectoryNotFoundException($"VlmTune.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>A deterministic noisy gradient image, for parity tests that need no fixture.</summary>
    public static RgbImage Synthetic(int width, int height, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++)
                {
                    int baseValue = c switch { 0 => x * 255 / Math.Max(width - 1, 1), 1 => y * 255 / Math.Max(height - 1, 1), _ => ((x / 3 + y / 3) % 2) * 255 };
                    pixels[(y * width + x) * 3 + c] = (byte)Math.Clamp(baseValue + rng.Next(-60, 61), 0, 255);
                }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>Index and value of the first differing byte, for assertion messages.</summary>
    public static string FirstDifference(RgbImage expected, RgbImage actual)
    {
        if (expected.Width != actual.Width || expected.Height != actual.Height)
            return $"size {actual.Width}x{actual.Height}, expected {expected.Width}x{expected.Height}";
        int diffs = 0, first = -1;
        for (int i = 0; i < expected.Pixels.Length; i++)
            if (expected.Pixels[i] != actual.Pixels[i]) { diffs++; if (first < 0) first = i; }
        if (diffs == 0) return "identical";
        int px = first / 3;
        return $"{diffs} bytes differ; first at x={px % expected.Width} y={px / expected.Width} c={first % 3}: " +
               $"expected {expected.Pixels[first]}, got {actual.Pixels[first]}";
    }
}
