namespace VlmTune.Checkpoints.Tests;

/// <summary>Locates committed fixtures and hands out scratch folders that clean up after themselves.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VlmTune.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("VlmTune.sln not found above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => Root.Value;

    /// <summary>A file under tests/fixtures/checkpoints (written by tests/reference/checkpoints/make_fixtures.py).</summary>
    public static string Fixture(params string[] parts) =>
        Path.Combine([RepoRoot, "tests", "fixtures", "checkpoints", .. parts]);
}

/// <summary>A fresh folder under the temp directory, deleted on Dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vlmtune-ckpt-" + Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
