using System.Text.Json;

namespace VlmTune.ChatTemplates.Tests;

/// <summary>Finds the repository root and loads the golden chat-template fixtures written by tests/reference/chat/make_fixtures.py.</summary>
internal static class Fixtures
{
    public const string Generator = "tests/reference/chat/make_fixtures.py";

    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "VlmTune.sln"))) return dir.FullName;
        throw new InvalidOperationException("VlmTune.sln not found above " + AppContext.BaseDirectory);
    });

    public static string ChatDir => Path.Combine(Root.Value, "tests", "fixtures", "chat");

    /// <summary>The strftime_now clock the generator used.</summary>
    public static readonly DateTime FixedNow = new(2024, 7, 26, 13, 45, 9);

    public static JsonElement Load(string name)
    {
        string path = Path.Combine(ChatDir, name);
        if (!File.Exists(path)) throw new FileNotFoundException($"fixture {path} is missing; re-run {Generator}");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement.Clone();
        if (root.GetProperty("generator").GetString() != Generator)
            throw new InvalidDataException($"fixture {path} was not written by {Generator}");
        return root;
    }
}
