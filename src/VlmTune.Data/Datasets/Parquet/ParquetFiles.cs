using VlmTune.Hub;

namespace VlmTune.Data.Datasets.Parquet;

/// <summary>
/// Which parquet files a dataset name means: a <c>.parquet</c> file; a folder (a dataset repository or a folder of
/// shards such as <c>data/train-00000-of-00003.parquet</c>); or a Hub dataset id <c>org/name[@revision]</c>, whose
/// snapshot comes from the Hugging Face cache (<c>datasets--org--name</c>). In a folder the split is picked as
/// <c>datasets</c> does: files named <c>{split}-*</c>, <c>{split}_*</c>, <c>{split}.*</c>, or under a folder named
/// <c>{split}</c> (the Hub's parquet conversion, <c>{config}/{split}/0000.parquet</c>); "validation" also matches
/// valid/val/dev. A folder whose file names name no split at all is all train. A config narrows the search to
/// the folder of that name.
/// </summary>
internal static class ParquetFiles
{
    private static readonly Dictionary<string, string[]> Synonyms = new()
    {
        ["train"] = ["train", "training"],
        ["validation"] = ["validation", "valid", "val", "dev"],
        ["test"] = ["test", "testing", "eval", "evaluation"],
    };

    /// <summary>True for a name <see cref="Locate"/> reads as parquet (or a Hub dataset), false for a JSONL file.</summary>
    public static bool IsParquet(string path) =>
        path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) || Directory.Exists(path) || HubLocator.IsHubId(path, HubRepoType.Dataset);

    /// <summary>The files, in order; null when <paramref name="path"/> is not a parquet dataset (then it is JSONL).</summary>
    public static IReadOnlyList<string>? Locate(string path, DatasetOptions options, Action<string>? log = null)
    {
        if (!IsParquet(path)) return null;
        if (path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(path))
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"dataset file not found: {path}", path);
            return [path];
        }
        string folder = Directory.Exists(path) ? path : HubLocator.ResolveDataset(path, log);
        return InFolder(path, folder, options.Split, options.Config);
    }

    internal static IReadOnlyList<string> InFolder(string name, string folder, string split, string? config)
    {
        string root = folder;
        if (config is not null)
        {
            root = Path.Combine(folder, config);
            if (!Directory.Exists(root))
                throw new FileNotFoundException($"{name}: no config \"{config}\" (no folder {root}; configs here: {List(Configs(folder))})");
        }
        var all = Directory.EnumerateFiles(root, "*.parquet", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.Split('/').Any(p => p.StartsWith('.')))
            .Order(StringComparer.Ordinal).ToList();
        if (all.Count == 0) throw new FileNotFoundException($"{name}: no .parquet files in {root}");
        var words = Synonyms.TryGetValue(split, out var s) ? s : [split];
        var matched = all.Where(f => Matches(f, words)).ToList();
        if (matched.Count == 0)
        {
            bool anySplit = all.Any(f => Synonyms.Values.SelectMany(x => x).Any(w => Matches(f, [w])));
            if (split == "train" && !anySplit) matched = all;   // no split in any name: everything is train
            else
                throw new FileNotFoundException($"{name}: no parquet files for split \"{split}\" in {root} " +
                                                $"(splits found: {List(Synonyms.Where(kv => all.Any(f => Matches(f, kv.Value))).Select(kv => kv.Key))})");
        }
        if (config is null)
        {
            var tops = matched.Where(f => f.Contains('/')).Select(f => f[..f.IndexOf('/')]).Distinct().ToList();
            if (tops.Count > 1 && !tops.Contains("data") && matched.All(f => f.Contains('/')))
                throw new InvalidDataException($"{name}: split \"{split}\" exists in several configs ({List(tops)}); choose one with data.config");
        }
        return matched.Select(f => Path.Combine(root, f.Replace('/', Path.DirectorySeparatorChar))).ToList();
    }

    private static bool Matches(string relative, string[] words)
    {
        var parts = relative.Split('/');
        string file = parts[^1];
        foreach (var w in words)
        {
            if (parts[..^1].Any(p => p.Equals(w, StringComparison.OrdinalIgnoreCase))) return true;
            if (file.Length > w.Length && file.StartsWith(w, StringComparison.OrdinalIgnoreCase) && file[w.Length] is '-' or '_' or '.') return true;
        }
        return false;
    }

    private static IEnumerable<string> Configs(string folder) =>
        Directory.EnumerateDirectories(folder).Select(Path.GetFileName).Where(n => n is not null && !n.StartsWith('.')).Order(StringComparer.Ordinal)!;

    private static string List(IEnumerable<string?> names) => string.Join(", ", names) is { Length: > 0 } s ? s : "none";
}
