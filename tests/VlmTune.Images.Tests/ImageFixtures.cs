using System.Text;

namespace VlmTune.Images.Tests;

/// <summary>
/// Reads tests/fixtures/images/manifest.tsv, written by tests/reference/images/make_fixtures.sh
/// (re-run that script after changing the generator; it needs ImageMagick, libjpeg-turbo-progs and Pillow).
/// </summary>
public static class ImageFixtures
{
    public sealed record Entry(string Input, string? Expected, string? Error, string Note)
    {
        public override string ToString() => Input;
    }

    public static string Root { get; } = FindRoot();

    public static string Dir => Path.Combine(Root, "tests", "fixtures", "images");

    public static IReadOnlyList<Entry> All { get; } = Load();

    public static byte[] Read(string relative) => File.ReadAllBytes(Path.Combine(Dir, relative));

    public static RgbImage ReadPpm(string relative)
    {
        var data = Read(relative);
        int pos = 0;
        string Token()
        {
            while (char.IsWhiteSpace((char)data[pos])) pos++;
            int start = pos;
            while (!char.IsWhiteSpace((char)data[pos])) pos++;
            return Encoding.ASCII.GetString(data, start, pos - start);
        }
        if (Token() != "P6") throw new InvalidDataException($"{relative}: not a binary PPM (P6)");
        int w = int.Parse(Token()), h = int.Parse(Token());
        if (Token() != "255") throw new InvalidDataException($"{relative}: maxval must be 255");
        pos++;
        return new RgbImage(w, h, data.AsSpan(pos, w * h * 3).ToArray());
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "VlmTune.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"no VlmTune.sln above {AppContext.BaseDirectory}");
    }

    private static List<Entry> Load()
    {
        string path = Path.Combine(Dir, "manifest.tsv");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} missing: run tests/reference/images/make_fixtures.sh", path);
        var list = new List<Entry>();
        foreach (var line in File.ReadAllLines(path))
        {
            if (line.StartsWith('#') || line.Length == 0) continue;
            var f = line.Split('\t');
            if (f.Length != 4) throw new InvalidDataException($"{path}: bad line '{line}' (re-run make_fixtures.sh)");
            list.Add(new Entry(f[0], f[1] == "-" ? null : f[1], f[2] == "-" ? null : f[2], f[3]));
        }
        return list;
    }
}
