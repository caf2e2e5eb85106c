using System.Text.Json;

namespace VlmTune.Checkpoints.SafeTensors;

/// <summary>
/// The weights of a Hugging Face model folder, single-file or sharded, behind one name lookup.
///
/// Resolution follows transformers: <c>model.safetensors</c> wins when present; otherwise
/// <c>model.safetensors.index.json</c> ({"metadata": {"total_size": N}, "weight_map": {name: shard file}}) names the
/// shards. Index rules (violations → <see cref="SafeTensorsFormatException"/> naming the index or shard file):
/// weight_map is an object of plain file names (no directories), every shard exists and is a valid safetensors file,
/// every mapped name is present in its shard, and no tensor name appears in two shards. Tensors a shard holds beyond
/// the map are exposed too (transformers loads whole shards).
///
/// Spans from <see cref="GetBytes"/> are valid until <see cref="Dispose"/>.
/// </summary>
public sealed class SafeTensorsCheckpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly SafeTensorsFile[] _files;
    private readonly Dictionary<string, SafeTensorsFile> _fileByName;

    /// <summary>The folder the checkpoint was opened from (full path).</summary>
    public string Directory { get; }

    /// <summary>Full path of the index file, or null for a single-file checkpoint.</summary>
    public string? IndexPath { get; }

    /// <summary>The open files, in shard order.</summary>
    public IReadOnlyList<SafeTensorsFile> Files => _files;

    /// <summary>Every tensor name, shard by shard in file order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The index's metadata.total_size when present (sum of tensor bytes as written by HF), else null.</summary>
    public long? TotalSize { get; }

    /// <summary>The first file's <c>__metadata__</c> (HF writes {"format": "pt"} into every shard).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _files[0].Metadata;

    private SafeTensorsCheckpoint(string directory, string? indexPath, SafeTensorsFile[] files, Dictionary<string, SafeTensorsFile> byName, long? totalSize)
    {
        Directory = directory;
        IndexPath = indexPath;
        _files = files;
        _fileByName = byName;
        TotalSize = totalSize;
        Names = files.SelectMany(f => f.Names).ToArray();
    }

    /// <summary>Opens the checkpoint in <paramref name="directory"/> (see the class summary for the rules).</summary>
    public static SafeTensorsCheckpoint Open(string directory)
    {
        string dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir))
            throw new DirectoryNotFoundException($"checkpoint folder not found: {dir}");
        string single = Path.Combine(dir, SingleFileName);
        if (File.Exists(single))
        {
            var file = SafeTensorsFile.Open(single);
            return new SafeTensorsCheckpoint(dir, null, [file], file.Names.ToDictionary(n => n, _ => file, StringComparer.Ordinal), null);
        }
        string index = Path.Combine(dir, IndexFileName);
        if (!File.Exists(index))
            throw new FileNotFoundException($"{dir}: neither {SingleFileName} nor {IndexFileName} exists", single);
        return OpenSharded(dir, index);
    }

    private static SafeTensorsCheckpoint OpenSharded(string dir, string indexPath)
    {
        var (weightMap, totalSize) = ReadIndex(indexPath);
        var opened = new List<SafeTensorsFile>();
        try
        {
            var byShard = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            foreach (string shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                string shardPath = Path.Combine(dir, shard);
                if (!File.Exists(shardPath))
                    throw new SafeTensorsFormatException(indexPath, null, $"weight_map names shard '{shard}', which does not exist in {dir}");
                var file = SafeTensorsFile.Open(shardPath);
                opened.Add(file);
                byShard.Add(shard, file);
            }
            foreach (var (name, shard) in weightMap)
                if (!byShard[shard].Contains(name))
                    throw new SafeTensorsFormatException(indexPath, name, $"mapped to shard '{shard}', which has no such tensor");
            var byName = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            foreach (var file in opened)
                foreach (string name in file.Names)
                    if (!byName.TryAdd(name, file))
                        throw new SafeTensorsFormatException(indexPath, name, $"present in two shards: '{Path.GetFileName(byName[name].Path)}' and '{Path.GetFileName(file.Path)}'");
            if (opened.Count == 0)
                throw new SafeTensorsFormatException(indexPath, null, "weight_map is empty");
            return new SafeTensorsCheckpoint(dir, indexPath, opened.ToArray(), byName, totalSize);
        }
        catch
        {
            foreach (var f in opened) f.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, string> WeightMap, long? TotalSize) ReadIndex(string indexPath)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        }
        catch (JsonException ex)
        {
            throw new SafeTensorsFormatException(indexPath, null, $"not well-formed JSON ({ex.Message})", ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException(indexPath, null, "index is not a JSON object");
            if (!root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException(indexPath, null, "missing 'weight_map' object");
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new SafeTensorsFormatException(indexPath, entry.Name, $"weight_map value must be a shard file name, found {entry.Value.ValueKind}");
                string shard = entry.Value.GetString()!;
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or ".." || shard.Contains('\\'))
                    throw new SafeTensorsFormatException(indexPath, entry.Name, $"shard '{shard}' is not a plain file name in the checkpoint folder");
                if (!weightMap.TryAdd(entry.Name, shard))
                    throw new SafeTensorsFormatException(indexPath, entry.Name, "appears twice in weight_map");
            }
            long? totalSize = null;
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object
                && meta.TryGetProperty("total_size", out var total))
            {
                if (total.ValueKind != JsonValueKind.Number || !total.TryGetInt64(out long t) || t < 0)
                    throw new SafeTensorsFormatException(indexPath, null, $"metadata.total_size must be a non-negative integer, found {total.GetRawText()}");
                totalSize = t;
            }
            return (weightMap, totalSize);
        }
    }

    /// <summary>True when some file holds <paramref name="name"/>.</summary>
    public bool Contains(string name) => _fileByName.ContainsKey(name);

    /// <summary>The entry for <paramref name="name"/>, or null when no file holds it.</summary>
    public TensorInfo? TryGetInfo(string name) => _fileByName.GetValueOrDefault(name)?.TryGetInfo(name);

    /// <summary>The entry for <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming the folder.</summary>
    public TensorInfo GetInfo(string name) =>
        TryGetInfo(name) ?? throw new KeyNotFoundException($"{Directory}: no tensor named '{name}'");

    /// <summary>The file that holds <paramref name="name"/>.</summary>
    public SafeTensorsFile GetFile(string name) =>
        _fileByName.GetValueOrDefault(name) ?? throw new KeyNotFoundException($"{Directory}: no tensor named '{name}'");

    /// <summary>Zero-copy view of the tensor's bytes, valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> GetBytes(string name) => GetFile(name).GetBytes(name);

    /// <summary>Copies the tensor's bytes into <paramref name="destination"/> (length must equal ByteLength).</summary>
    public void CopyTo(string name, Span<byte> destination) => GetFile(name).CopyTo(name, destination);

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
