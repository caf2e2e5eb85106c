using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace VlmTune.Tensors.Tests.Fixtures;

/// <summary>
/// Minimal strict safetensors reader for test fixtures (BCL only): u64 little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets: [begin, end)}} plus an optional "__metadata__" object of strings, then raw
/// little-endian data with offsets relative to the end of the header. Only F32 and I64 are accepted.
/// </summary>
internal static class FixtureSafetensors
{
    private const long MaxHeaderBytes = 100_000_000;

    public static Dictionary<string, FixtureTensor> Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
        {
            throw new OpFixtureException($"{path}: {bytes.Length} bytes, too short for a safetensors header length");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes || (long)headerLength > bytes.Length - 8)
        {
            throw new OpFixtureException(
                $"{path}: header length {headerLength} at offset 0 exceeds the file ({bytes.Length} bytes)");
        }
        int dataStart = 8 + (int)headerLength;
        long dataLength = bytes.Length - dataStart;

        JsonDocument header;
        try
        {
            header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw new OpFixtureException($"{path}: header JSON (bytes 8..{dataStart}) is invalid: {e.Message}", e);
        }

        var tensors = new Dictionary<string, FixtureTensor>(StringComparer.Ordinal);
        using (header)
        {
            if (header.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new OpFixtureException($"{path}: header is not a JSON object");
            }
            foreach (var entry in header.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    continue;
                }
                try
                {
                    tensors.Add(entry.Name, ReadTensor(path, entry, bytes, dataStart, dataLength));
                }
                catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
                {
                    throw new OpFixtureException($"{path}: tensor '{entry.Name}': malformed header entry: {e.Message}", e);
                }
            }
        }
        return tensors;
    }

    private static FixtureTensor ReadTensor(
        string path, JsonProperty entry, byte[] bytes, int dataStart, long dataLength)
    {
        string name = entry.Name;
        string where = $"{path}: tensor '{name}'";
        JsonElement e = entry.Value;
        string dtype = RequireProperty(e, "dtype", where).GetString()
            ?? throw new OpFixtureException($"{where}: dtype is null");
        int elementSize = dtype switch
        {
            "F32" => 4,
            "I64" => 8,
            _ => throw new OpFixtureException($"{where}: dtype '{dtype}' is not supported (expected F32 or I64)"),
        };
        int[] shape = RequireProperty(e, "shape", where).EnumerateArray().Select(d => d.GetInt32()).ToArray();
        if (shape.Any(d => d < 0))
        {
            throw new OpFixtureException($"{where}: negative dimension in shape [{string.Join(",", shape)}]");
        }
        long[] offsets = RequireProperty(e, "data_offsets", where).EnumerateArray().Select(d => d.GetInt64()).ToArray();
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
        {
            throw new OpFixtureException(
                $"{where}: data_offsets [{string.Join(",", offsets)}] outside the data section ({dataLength} bytes)");
        }
        int count = FixtureTensor.ElementCountOf(shape);
        if (offsets[1] - offsets[0] != (long)count * elementSize)
        {
            throw new OpFixtureException(
                $"{where}: {offsets[1] - offsets[0]} bytes at data offset {offsets[0]}, but shape " +
                $"[{string.Join(",", shape)}] of {dtype} needs {(long)count * elementSize}");
        }

        var span = bytes.AsSpan(dataStart + (int)offsets[0], (int)(offsets[1] - offsets[0]));
        if (dtype == "F32")
        {
            var data = new float[count];
            for (int i = 0; i < count; i++)
            {
                data[i] = BinaryPrimitives.ReadSingleLittleEndian(span.Slice(4 * i, 4));
            }
            return new FixtureTensor(name, dtype, shape, data, null);
        }
        else
        {
            var data = new long[count];
            for (int i = 0; i < count; i++)
            {
                data[i] = BinaryPrimitives.ReadInt64LittleEndian(span.Slice(8 * i, 8));
            }
            return new FixtureTensor(name, dtype, shape, null, data);
        }
    }

    private static JsonElement RequireProperty(JsonElement e, string property, string where) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(property, out var value)
            ? value
            : throw new OpFixtureException($"{where}: missing '{property}'");
}
