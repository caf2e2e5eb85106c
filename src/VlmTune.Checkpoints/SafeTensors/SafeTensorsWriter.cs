using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using VlmTune.Checkpoints.Json;
using VlmTune.Tensors;

namespace VlmTune.Checkpoints.SafeTensors;

/// <summary>
/// Collects tensors and writes them as safetensors exactly as the Python stack does.
///
/// Per file (huggingface/safetensors <c>tensor.rs</c> <c>prepare</c>): tensors ordered by dtype alignment rank
/// descending, then by name (UTF-8 byte order); data laid out contiguously in that order; header = compact JSON with
/// <c>__metadata__</c> first (its keys sorted here for determinism; the library's order is a hash map's), then each
/// tensor as {"dtype","shape","data_offsets"}; padded with spaces to a multiple of 8 bytes.
///
/// Folder layout (transformers save_pretrained + huggingface_hub split_state_dict_into_shards): tensors are assigned to
/// shards in insertion order, a new shard starting when the next tensor would push the current one past
/// <see cref="MaxShardSize"/> (a tensor larger than the limit gets a shard of its own). One shard →
/// <c>model.safetensors</c>; several → <c>model-0000i-of-0000N.safetensors</c> plus
/// <c>model.safetensors.index.json</c> = json.dumps({"metadata": {"total_size"}, "weight_map"}, indent=2,
/// sort_keys=True) + "\n".
///
/// Atomicity: every file is first written to a hidden temp file in the target folder and renamed into place only
/// after all of them were written; on failure the temps are deleted and the folder is unchanged. Stale files of a
/// previous save (the other layout's files) are removed after the renames.
/// </summary>
public sealed class SafeTensorsWriter
{
    /// <summary>5 GB, huggingface_hub's MAX_SHARD_SIZE and transformers' default max_shard_size ("5GB" = 5·10⁹).</summary>
    public const long DefaultMaxShardSize = 5_000_000_000;

    /// <summary>Writes exactly the tensor's byte length into <paramref name="destination"/>.</summary>
    public delegate void TensorDataWriter(Stream destination);

    private sealed record Pending(string Name, string DType, long[] Shape, long ByteLength, ReadOnlyMemory<byte> Bytes, TensorDataWriter? Callback);

    private readonly List<Pending> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>
    /// The <c>__metadata__</c> written into every file; null writes no <c>__metadata__</c> key at all.
    /// transformers writes {"format": "pt"}; PEFT adapters too.
    /// </summary>
    public Dictionary<string, string>? Metadata { get; set; }

    /// <summary>Largest shard in bytes of tensor data before a new shard starts (default 5 GB).</summary>
    public long MaxShardSize { get; set; } = DefaultMaxShardSize;

    /// <summary>Names added so far, in insertion order.</summary>
    public IReadOnlyList<string> Names => _tensors.Select(t => t.Name).ToArray();

    /// <summary>Sum of all tensors' byte lengths (the index's total_size).</summary>
    public long TotalSize => _tensors.Sum(t => t.ByteLength);

    public void Add(string name, DType dtype, long[] shape, ReadOnlyMemory<byte> bytes) =>
        Add(name, SafeTensorsDTypes.NameOf(dtype), shape, bytes);

    /// <summary>Adds a tensor from bytes (little-endian, row-major); the length must match shape × dtype width.</summary>
    public void Add(string name, string dtypeName, long[] shape, ReadOnlyMemory<byte> bytes)
    {
        long length = Check(name, dtypeName, shape);
        if (bytes.Length != length)
            throw new ArgumentException($"tensor '{name}': {dtypeName}[{string.Join(", ", shape)}] needs {length} bytes, got {bytes.Length}", nameof(bytes));
        _tensors.Add(new Pending(name, dtypeName, (long[])shape.Clone(), length, bytes, null));
        _names.Add(name);
    }

    public void Add(string name, DType dtype, long[] shape, TensorDataWriter write) =>
        Add(name, SafeTensorsDTypes.NameOf(dtype), shape, write);

    /// <summary>Adds a tensor whose bytes are produced at save time by <paramref name="write"/> (which must write exactly the byte length).</summary>
    public void Add(string name, string dtypeName, long[] shape, TensorDataWriter write)
    {
        ArgumentNullException.ThrowIfNull(write);
        long length = Check(name, dtypeName, shape);
        _tensors.Add(new Pending(name, dtypeName, (long[])shape.Clone(), length, default, write));
        _names.Add(name);
    }

    private long Check(string name, string dtypeName, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (name == "__metadata__")
            throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor", nameof(name));
        if (!IsWellFormedUtf16(name))
            throw new ArgumentException($"tensor name '{name}' is not valid Unicode (lone surrogate)", nameof(name));
        if (_names.Contains(name))
            throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        if (!SafeTensorsDTypes.IsKnown(dtypeName))
            throw new ArgumentException($"tensor '{name}': unknown safetensors dtype '{dtypeName}'", nameof(dtypeName));
        if (shape.Any(d => d < 0))
            throw new ArgumentException($"tensor '{name}': negative dimension in shape [{string.Join(", ", shape)}]", nameof(shape));
        return SafeTensorsDTypes.ByteSize(dtypeName, shape)
            ?? throw new ArgumentException($"tensor '{name}': {dtypeName}[{string.Join(", ", shape)}] overflows or is not a whole number of bytes", nameof(shape));
    }

    private static bool IsWellFormedUtf16(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(s[i])) return false;
        }
        return true;
    }

    /// <summary>
    /// Writes every tensor into one safetensors file at <paramref name="path"/>, regardless of size (use this for
    /// adapter_model.safetensors). Atomic: temp file + rename.
    /// </summary>
    public void WriteFile(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        Commit([(full, _tensors)], indexPath: null, indexJson: null);
    }

    /// <summary>
    /// Writes the model into <paramref name="directory"/> as <paramref name="weightsName"/> or, when the tensors
    /// exceed <see cref="MaxShardSize"/>, as shards plus an index. Returns the file names written (index last).
    /// </summary>
    public IReadOnlyList<string> Save(string directory, string weightsName = SafeTensorsCheckpoint.SingleFileName)
    {
        if (!weightsName.EndsWith(".safetensors", StringComparison.Ordinal) || weightsName != Path.GetFileName(weightsName))
            throw new ArgumentException($"weights name '{weightsName}' must be a plain file name ending in .safetensors", nameof(weightsName));
        if (MaxShardSize <= 0)
            throw new InvalidOperationException($"MaxShardSize must be positive, got {MaxShardSize}");
        string dir = Path.GetFullPath(directory);
        Directory.CreateDirectory(dir);

        var shards = PlanShards();
        string stem = weightsName[..^".safetensors".Length];
        string indexName = weightsName + ".index.json";
        var files = new List<(string Path, IReadOnlyList<Pending> Tensors)>();
        string? indexJson = null;
        if (shards.Count <= 1)
        {
            files.Add((Path.Combine(dir, weightsName), shards.Count == 1 ? shards[0] : []));
        }
        else
        {
            var weightMap = new PythonJson.SortedObject();
            for (int i = 0; i < shards.Count; i++)
            {
                string name = $"{stem}-{(i + 1).ToString("D5", CultureInfo.InvariantCulture)}-of-{shards.Count.ToString("D5", CultureInfo.InvariantCulture)}.safetensors";
                files.Add((Path.Combine(dir, name), shards[i]));
                foreach (var t in shards[i]) weightMap[t.Name] = name;
            }
            var index = new PythonJson.SortedObject
            {
                ["metadata"] = new PythonJson.SortedObject { ["total_size"] = TotalSize },
                ["weight_map"] = weightMap,
            };
            indexJson = PythonJson.Dumps(index) + "\n";
        }

        string? indexPath = indexJson is null ? null : Path.Combine(dir, indexName);
        Commit(files, indexPath, indexJson);
        RemoveStale(dir, stem, weightsName, indexName, files.Select(f => Path.GetFileName(f.Path)).ToHashSet(StringComparer.Ordinal), sharded: indexJson is not null);
        var written = files.Select(f => Path.GetFileName(f.Path)).ToList();
        if (indexPath is not null) written.Add(indexName);
        return written;
    }

    private List<List<Pending>> PlanShards()
    {
        var shards = new List<List<Pending>>();
        var current = new List<Pending>();
        long currentSize = 0;
        foreach (var t in _tensors)
        {
            if (t.ByteLength > MaxShardSize)
            {
                shards.Add([t]);
                continue;
            }
            if (currentSize + t.ByteLength > MaxShardSize)
            {
                shards.Add(current);
                current = [];
                currentSize = 0;
            }
            current.Add(t);
            currentSize += t.ByteLength;
        }
        if (current.Count > 0) shards.Add(current);
        return shards;
    }

    private void Commit(IReadOnlyList<(string Path, IReadOnlyList<Pending> Tensors)> files, string? indexPath, string? indexJson)
    {
        var temps = new List<(string Temp, string Final)>();
        try
        {
            foreach (var (path, tensors) in files)
            {
                string temp = TempPathFor(path);
                temps.Add((temp, path));
                WriteOne(temp, tensors);
            }
            if (indexPath is not null)
            {
                string temp = TempPathFor(indexPath);
                temps.Add((temp, indexPath));
                File.WriteAllText(temp, indexJson, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            }
        }
        catch
        {
            foreach (var (temp, _) in temps) TryDelete(temp);
            throw;
        }
        // Shards first, index last: the index appearing is what makes a sharded folder loadable.
        foreach (var (temp, final) in temps) File.Move(temp, final, overwrite: true);
    }

    private static string TempPathFor(string finalPath) =>
        Path.Combine(Path.GetDirectoryName(finalPath)!, $".{Path.GetFileName(finalPath)}.{Guid.NewGuid():N}.tmp");

    private void WriteOne(string path, IReadOnlyList<Pending> tensors)
    {
        var ordered = tensors
            .OrderByDescending(t => SafeTensorsDTypes.Rank(t.DType))
            .ThenBy(t => t.Name, SerdeJson.Utf8Comparer.Instance)
            .ToList();
        byte[] header = BuildHeader(ordered, Metadata);
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20);
        Span<byte> n = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(n, (ulong)header.Length);
        stream.Write(n);
        stream.Write(header);
        foreach (var t in ordered)
        {
            if (t.Callback is null)
            {
                stream.Write(t.Bytes.Span);
                continue;
            }
            var counted = new BoundedWriteStream(stream, t.ByteLength, t.Name);
            t.Callback(counted);
            if (counted.Written != t.ByteLength)
                throw new InvalidOperationException($"tensor '{t.Name}': the data writer wrote {counted.Written} bytes, expected {t.ByteLength}");
        }
        stream.Flush(flushToDisk: true);
    }

    /// <summary>The padded header bytes for tensors already in file order (exposed to tests through the file bytes).</summary>
    internal static byte[] BuildHeader(IReadOnlyList<(string Name, string DType, long[] Shape, long ByteLength)> ordered, IReadOnlyDictionary<string, string>? metadata)
    {
        var sb = new StringBuilder();
        sb.Append('{');
        bool first = true;
        if (metadata is not null)
        {
            SerdeJson.WriteString(sb, "__metadata__");
            sb.Append(":{");
            bool firstKey = true;
            foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, SerdeJson.Utf8Comparer.Instance))
            {
                if (!firstKey) sb.Append(',');
                firstKey = false;
                SerdeJson.WriteString(sb, k);
                sb.Append(':');
                SerdeJson.WriteString(sb, v);
            }
            sb.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var t in ordered)
        {
            if (!first) sb.Append(',');
            first = false;
            SerdeJson.WriteString(sb, t.Name);
            sb.Append(":{\"dtype\":");
            SerdeJson.WriteString(sb, t.DType);
            sb.Append(",\"shape\":[").AppendJoin(',', t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
            sb.Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',');
            offset += t.ByteLength;
            sb.Append(offset.ToString(CultureInfo.InvariantCulture)).Append("]}");
        }
        sb.Append('}');
        int pad = (8 - Encoding.UTF8.GetByteCount(sb.ToString()) % 8) % 8;
        sb.Append(' ', pad);
        byte[] bytes = Encoding.UTF8.GetBytes(sb.ToString());
        if (bytes.Length > SafeTensorsHeader.MaxHeaderLength)
            throw new InvalidOperationException($"header would be {bytes.Length} bytes, over the format's limit of {SafeTensorsHeader.MaxHeaderLength}");
        return bytes;
    }

    private static byte[] BuildHeader(List<Pending> ordered, IReadOnlyDictionary<string, string>? metadata) =>
        BuildHeader(ordered.Select(t => (t.Name, t.DType, t.Shape, t.ByteLength)).ToList(), metadata);

    private static readonly Regex ShardPattern = new(@"^(?<stem>.+)-\d{5}-of-\d{5}\.safetensors$", RegexOptions.CultureInvariant);

    private static void RemoveStale(string dir, string stem, string weightsName, string indexName, HashSet<string> keep, bool sharded)
    {
        foreach (string path in Directory.EnumerateFiles(dir))
        {
            string name = Path.GetFileName(path);
            if (keep.Contains(name) || (sharded && name == indexName)) continue;
            var m = ShardPattern.Match(name);
            bool staleShard = m.Success && m.Groups["stem"].Value == stem;
            bool staleOther = sharded ? name == weightsName : name == indexName;
            if (staleShard || staleOther) File.Delete(path);
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Forwards writes to the file while refusing to go past one tensor's byte length.</summary>
    private sealed class BoundedWriteStream(Stream inner, long limit, string tensor) : Stream
    {
        public long Written { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Written + buffer.Length > limit)
                throw new InvalidOperationException($"tensor '{tensor}': the data writer wrote more than the expected {limit} bytes");
            inner.Write(buffer);
            Written += buffer.Length;
        }
    }
}
