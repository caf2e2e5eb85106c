namespace VlmTune.Models.SmolVlm.Tests.Init;

/// <summary>Repo paths and scratch folders for the Init tests.</summary>
internal static class InitTestSupport
{
    static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VlmTune.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("VlmTune.sln not found above " + AppContext.BaseDirectory);
    });

    /// <summary>tests/fixtures/data/tiny-model (hand-written; see its README).</summary>
    public static string TinyModelDir => Path.Combine(Root.Value, "tests", "fixtures", "data", "tiny-model");

    /// <summary>The tiny tokenizer files <see cref="VlmTune.Models.SmolVlm.Init.InitPreset.BuildFiles"/> takes.</summary>
    public static Dictionary<string, string> TinyTokenizerFiles() =>
        new[] { "tokenizer.json", "tokenizer_config.json", "chat_template.json" }
            .ToDictionary(n => n, n => File.ReadAllText(Path.Combine(TinyModelDir, n)));

    public static string NewTempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vlmtune-init-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void Delete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}
