using VlmTune.Images;
using VlmTune.Images.Png;

namespace VlmTune.Data.Tests.Support;

/// <summary>Fixture paths (tests/fixtures/data, written by tests/reference/data/make_fixtures.py) and temp folders.</summary>
internal static class TestData
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VlmTune.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("VlmTune.sln not found above " + AppContext.BaseDirectory);
    });

    private static readonly Lazy<SmolVlmProcessor> Processor = new(() => SmolVlmProcessor.FromDirectory(TinyModelDir));

    public static string FixtureDir => Path.Combine(Root.Value, "tests", "fixtures", "data");
    public static string TinyModelDir => Path.Combine(FixtureDir, "tiny-model");
    /// <summary>The tiny model's processor: 32-px tiles, longest edge 64, 4 image tokens per tile, max length 512.</summary>
    public static SmolVlmProcessor Tiny => Processor.Value;
}

/// <summary>A temporary folder with helpers to write JSONL lines and PNG images; deleted on dispose.</summary>
internal sealed class TempDataset : IDisposable
{
    public TempDataset()
    {
        Dir = Path.Combine(Path.GetTempPath(), "vlmtune-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Dir);
    }

    public string Dir { get; }

    public string WriteLines(string name, params string[] lines)
    {
        string path = Path.Combine(Dir, name);
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    public string WritePng(string name, int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 7 % 251);
        string path = Path.Combine(Dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, PngEncoder.Encode(new RgbImage(width, height, pixels)));
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
