using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace VlmTune.Checkpoints.SafeTensors;

/// <summary>
/// The parsed and validated header of one safetensors file.
///
/// File layout: [u64 LE n][n bytes UTF-8 JSON object][data region]. Each JSON entry is
/// <c>{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}</c> with offsets relative to the data region;
/// the optional <c>"__metadata__"</c> entry maps strings to strings.
///
/// Rules enforced here (any failure → <see cref="SafeTensorsFormatException"/>):
/// 2 ≤ n ≤ 100,000,000 and n ≤ file length − 8; the header is valid UTF-8 and one JSON object (trailing whitespace
/// allowed, nothing else); no duplicate keys; dtype is a known safetensors dtype; shape entries are non-negative
/// integers; data_offsets has exactly two integers with begin ≤ end ≤ data length; product(shape) × dtype width equals
/// end − begin (64-bit overflow-checked); no two non-empty tensors overlap. Unknown fields inside a tensor entry are
/// ignored, as the reference library does. Unlike the reference library, gaps between tensors and trailing bytes
/// after the last tensor are accepted (they cannot make a read go wrong).
/// </summary>
internal sealed class SafeTensorsHeader
{
    /// <summary>Largest header the reference library accepts (safetensors <c>MAX_HEADER_SIZE</c>).</summary>
    public const long MaxHeaderLength = 100_000_000;

    public required long HeaderLength { get; init; }
    public required long DataStart { get; init; }
    public required IReadOnlyList<TensorInfo> TensorsByOffset { get; init; }
    public required Dictionary<string, TensorInfo> TensorsByName { get; init; }
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    /// <summary>
    /// Parses the header from the first bytes of a file. <paramref name="prefix"/> must hold at least
    /// min(<paramref name="fileLength"/>, 8 + <see cref="MaxHeaderLength"/>) bytes.
    /// </summary>
    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> prefix, long fileLength, string path)
    {
        if (fileLength < 8 || prefix.Length < 8)
            throw Header(path, $"file is {fileLength} bytes, shorter than the 8-byte header length field");
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (declared < 2)
            throw Header(path, $"header length {declared} is below the minimum of 2 ('{{}}')");
        if (declared > MaxHeaderLength)
            throw Header(path, $"header length {declared} exceeds the limit of {MaxHeaderLength} bytes");
        long n = (long)declared;
        if (n > fileLength - 8)
            throw Header(path, $"header length {n} runs past the end of the file ({fileLength} bytes, {fileLength - 8} after the length field)");
        if (prefix.Length < 8 + n)
            throw new ArgumentException("prefix shorter than the declared header", nameof(prefix));

        ReadOnlySpan<byte> json = prefix.Slice(8, (int)n);
        if (!Utf8.IsValid(json))
            throw Header(path, "header is not valid UTF-8");

        long dataStart = 8 + n;
        long dataLength = fileLength - dataStart;
        var (metadata, entries) = ReadJson(json, path);

        var byName = new Dictionary<string, TensorInfo>(entries.Count, StringComparer.Ordinal);
        var infos = new List<TensorInfo>(entries.Count);
        foreach (var e in entries)
        {
            if (e.Begin > e.End)
                throw Tensor(path, e.Name, $"data_offsets [{e.Begin}, {e.End}] has begin > end");
            if (e.End > dataLength)
                throw Tensor(path, e.Name, $"data_offsets [{e.Begin}, {e.End}] run past the data region ({dataLength} bytes)");
            long? expected = SafeTensorsDTypes.ByteSize(e.DType, e.Shape);
            if (expected is null)
                throw Tensor(path, e.Name, $"shape [{string.Join(", ", e.Shape)}] of {e.DType} overflows or is not a whole number of bytes");
            if (expected.Value != e.End - e.Begin)
                throw Tensor(path, e.Name, $"shape [{string.Join(", ", e.Shape)}] of {e.DType} needs {expected.Value} bytes but data_offsets [{e.Begin}, {e.End}] span {e.End - e.Begin}");
            var info = new TensorInfo
            {
                Name = e.Name,
                DTypeName = e.DType,
                DType = SafeTensorsDTypes.ToDType(e.DType),
                Shape = e.Shape,
                ByteOffset = dataStart + e.Begin,
                ByteLength = e.End - e.Begin,
            };
            byName.Add(e.Name, info);
            infos.Add(info);
        }

        infos.Sort((a, b) => a.ByteOffset != b.ByteOffset
            ? a.ByteOffset.CompareTo(b.ByteOffset)
            : a.ByteLength != b.ByteLength ? a.ByteLength.CompareTo(b.ByteLength) : string.CompareOrdinal(a.Name, b.Name));
        TensorInfo? previous = null;
        foreach (var info in infos)
        {
            if (info.ByteLength == 0) continue;
            if (previous is not null && info.ByteOffset < previous.ByteOffset + previous.ByteLength)
                throw Tensor(path, info.Name, $"bytes [{info.ByteOffset - dataStart}, {info.ByteOffset - dataStart + info.ByteLength}) overlap tensor '{previous.Name}' [{previous.ByteOffset - dataStart}, {previous.ByteOffset - dataStart + previous.ByteLength})");
            previous = info;
        }

        return new SafeTensorsHeader
        {
            HeaderLength = n,
            DataStart = dataStart,
            TensorsByOffset = infos,
            TensorsByName = byName,
            Metadata = metadata,
        };
    }

    private readonly record struct Entry(string Name, string DType, long[] Shape, long Begin, long End);

    private static (Dictionary<string, string> Metadata, List<Entry> Entries) ReadJson(ReadOnlySpan<byte> json, string path)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Header(path, "header is not a JSON object");
            while (true)
            {
                Next(ref reader, path, current);
                if (reader.TokenType == JsonTokenType.EndObject) break;
                string key = reader.GetString()!;
                current = key == "__metadata__" ? null : key;
                if (!seen.Add(key))
                    throw key == "__metadata__" ? Header(path, "duplicate '__metadata__' entry") : Tensor(path, key, "appears twice in the header");
                Next(ref reader, path, current);
                if (key == "__metadata__")
                    ReadMetadata(ref reader, path, metadata);
                else
                    entries.Add(ReadEntry(ref reader, path, key));
                current = null;
            }
            if (reader.Read())
                throw Header(path, $"unexpected content after the header object at byte {reader.TokenStartIndex}");
        }
        catch (JsonException ex)
        {
            throw Where(path, current, $"not well-formed JSON ({ex.Message})", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw Where(path, current, $"not well-formed JSON ({ex.Message})", ex);
        }
        return (metadata, entries);
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, string path, Dictionary<string, string> metadata)
    {
        if (reader.TokenType == JsonTokenType.Null) return;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Header(path, $"'__metadata__' must be an object of strings, found {reader.TokenType}");
        while (true)
        {
            Next(ref reader, path, null);
            if (reader.TokenType == JsonTokenType.EndObject) return;
            string key = reader.GetString()!;
            Next(ref reader, path, null);
            if (reader.TokenType != JsonTokenType.String)
                throw Header(path, $"'__metadata__' value for '{key}' must be a string, found {reader.TokenType}");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw Header(path, $"'__metadata__' has the key '{key}' twice");
        }
    }

    private static Entry ReadEntry(ref Utf8JsonReader reader, string path, string name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Tensor(path, name, $"entry must be an object, found {reader.TokenType}");
        string? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        while (true)
        {
            Next(ref reader, path, name);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            string field = reader.GetString()!;
            Next(ref reader, path, name);
            switch (field)
            {
                case "dtype":
                    if (dtype is not null) throw Tensor(path, name, "field 'dtype' appears twice");
                    if (reader.TokenType != JsonTokenType.String)
                        throw Tensor(path, name, $"'dtype' must be a string, found {reader.TokenType}");
                    dtype = reader.GetString()!;
                    if (!SafeTensorsDTypes.IsKnown(dtype))
                        throw Tensor(path, name, $"unknown dtype '{dtype}'");
                    break;
                case "shape":
                    if (shape is not null) throw Tensor(path, name, "field 'shape' appears twice");
                    shape = ReadIntArray(ref reader, path, name, "shape");
                    break;
                case "data_offsets":
                    if (offsets is not null) throw Tensor(path, name, "field 'data_offsets' appears twice");
                    offsets = ReadIntArray(ref reader, path, name, "data_offsets");
                    if (offsets.Length != 2)
                        throw Tensor(path, name, $"'data_offsets' must hold exactly 2 integers, found {offsets.Length}");
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null) throw Tensor(path, name, "missing field 'dtype'");
        if (shape is null) throw Tensor(path, name, "missing field 'shape'");
        if (offsets is null) throw Tensor(path, name, "missing field 'data_offsets'");
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntArray(ref Utf8JsonReader reader, string path, string name, string field)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Tensor(path, name, $"'{field}' must be an array of non-negative integers, found {reader.TokenType}");
        var values = new List<long>();
        while (true)
        {
            Next(ref reader, path, name);
            if (reader.TokenType == JsonTokenType.EndArray) return values.ToArray();
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < 0)
                throw Tensor(path, name, $"'{field}' element {values.Count} is not a non-negative 64-bit integer ({Describe(ref reader)})");
            values.Add(v);
        }
    }

    private static string Describe(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is JsonTokenType.Number or JsonTokenType.String)
        {
            string text = Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan.ToArray());
            return text.Length > 40 ? text[..40] + "…" : text;
        }
        return reader.TokenType.ToString();
    }

    private static void Next(ref Utf8JsonReader reader, string path, string? tensor)
    {
        if (!reader.Read())
            throw Where(path, tensor, "header JSON ends early");
    }

    private static SafeTensorsFormatException Header(string path, string detail) => new(path, null, detail);

    private static SafeTensorsFormatException Tensor(string path, string name, string detail) => new(path, name, detail);

    private static SafeTensorsFormatException Where(string path, string? tensor, string detail, Exception? inner = null) =>
        new(path, tensor, detail, inner);
}
