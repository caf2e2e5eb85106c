using System.Text.Json;

namespace VlmTune.Tokenizers.Tests;

/// <summary>
/// Reads tests/fixtures/tokenizer/*, written by tests/reference/tokenizer/make_fixtures.mjs
/// (Hugging Face tokenizers, npm binding, as the oracle). Re-run that script to regenerate.
/// </summary>
internal static class Fixtures
{
    public const string Generator = "tests/reference/tokenizer/make_fixtures.mjs";

    public sealed record Expected(int[] Ids, int[] WithSpecial, string Decoded, string DecodedSkip);

    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VlmTune.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("VlmTune.sln not found above " + AppContext.BaseDirectory);
    });

    private static readonly Lazy<string[]> CorpusLines = new(() => ReadJsonl("corpus.jsonl")
        .Select(e => e.GetProperty("text").GetString()!).ToArray());

    public static string Dir => Path.Combine(Root.Value, "tests", "fixtures", "tokenizer");

    public static string TokenizerPath(string name) => Path.Combine(Dir, name, "tokenizer.json");

    public static IReadOnlyList<string> Corpus => CorpusLines.Value;

    private static readonly Dictionary<string, Tokenizer> Loaded = new();

    public static Tokenizer Load(string name)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(name, out Tokenizer? t)) Loaded[name] = t = Tokenizer.FromFile(TokenizerPath(name));
            return t;
        }
    }

    public static IReadOnlyList<Expected> ExpectedFor(string name)
    {
        var rows = ReadJsonl($"expected-{name}.jsonl").ToList();
        if (rows.Count != Corpus.Count)
            throw new InvalidOperationException($"expected-{name}.jsonl has {rows.Count} rows for {Corpus.Count} corpus lines; re-run {Generator}");
        return rows.Select((r, i) =>
        {
            int[] ids = Ints(r.GetProperty("ids"));
            JsonElement w = r.GetProperty("with_special");
            int[] withSpecial = w.ValueKind switch
            {
                JsonValueKind.Null => ids,
                JsonValueKind.Array => Ints(w),
                _ => [.. Ints(w.GetProperty("prefix")), .. ids, .. Ints(w.GetProperty("suffix"))],
            };
            string decoded = r.GetProperty("decoded").GetString() ?? Corpus[i];
            string decodedSkip = r.GetProperty("decoded_skip").GetString() ?? Corpus[i];
            return new Expected(ids, withSpecial, decoded, decodedSkip);
        }).ToList();
    }

    /// <summary>HF token spans (UTF-16 units, add_special_tokens=true) for the first corpus strings.</summary>
    public static IReadOnlyList<(int Start, int End)[]> OffsetsFor(string name) =>
        ReadJsonl($"offsets-{name}.jsonl").Select(r =>
        {
            int[] flat = Ints(r.GetProperty("offsets"));
            return Enumerable.Range(0, flat.Length / 2).Select(k => (flat[2 * k], flat[2 * k + 1])).ToArray();
        }).ToList();

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    /// <summary>Rows of a JSONL fixture, skipping the header line (which names the generator).</summary>
    private static IEnumerable<JsonElement> ReadJsonl(string file)
    {
        string[] lines = File.ReadAllLines(Path.Combine(Dir, file));
        using var header = JsonDocument.Parse(lines[0]);
        if (header.RootElement.GetProperty("generator").GetString() != Generator)
            throw new InvalidOperationException($"{file} was not written by {Generator}");
        foreach (string line in lines.Skip(1))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            yield return doc.RootElement.Clone();
        }
    }
}
