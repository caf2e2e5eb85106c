using System.Buffers.Binary;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Tensors;

namespace VlmTune.Checkpoints.Tests.SafeTensors;

public class SafeTensorsFileTests
{
    [Fact]
    public void Reads_the_mixed_fixture_written_by_the_reference_script()
    {
        using var file = SafeTensorsFile.Open(TestPaths.Fixture("mixed.safetensors"));

        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("tests/reference/checkpoints/make_fixtures.py", file.Metadata["generator"]);
        Assert.Equal(11, file.Names.Count);
        // File order = dtype alignment rank descending, then name: I64, F64, F32, I32, BF16, F16, I8, U8, BOOL.
        Assert.Equal(["ids", "d", "a.bias", "empty", "z.weight", "count", "emb", "half", "unicode.été", "q.weight", "mask"], file.Names);

        var z = file.GetInfo("z.weight");
        Assert.Equal("F32", z.DTypeName);
        Assert.Equal(DType.F32, z.DType);
        Assert.Equal([2L, 3L], z.Shape);
        Assert.Equal(24, z.ByteLength);
        Assert.Equal(6, z.ElementCount);
        float[] values = new float[6];
        for (int i = 0; i < 6; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(file.GetBytes("z.weight")[(4 * i)..]);
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f], values);

        Assert.Equal(DType.BF16, file.GetInfo("emb").DType);
        Assert.Equal([0x80, 0x3F], file.GetBytes("emb")[..2].ToArray()); // bf16 1.0
        Assert.Equal(DType.U8, file.GetInfo("q.weight").DType);
        Assert.Equal([0x12, 0x34, 0x56, 0x78], file.GetBytes("q.weight").ToArray());
        Assert.Equal(1L << 40, BinaryPrimitives.ReadInt64LittleEndian(file.GetBytes("ids")[16..]));
        Assert.Empty(file.GetInfo("count").Shape);
        Assert.Equal(7, BinaryPrimitives.ReadInt32LittleEndian(file.GetBytes("count")));
        Assert.Null(file.GetInfo("mask").DType);
        Assert.Equal("BOOL", file.GetInfo("mask").DTypeName);
        Assert.Null(file.GetInfo("d").DType);
        Assert.Equal(0, file.GetBytes("empty").Length);
        Assert.Equal(0, file.GetInfo("empty").ElementCount);
        Assert.Equal((sbyte)-1, (sbyte)file.GetBytes("unicode.été")[0]);
    }

    [Fact]
    public void CopyTo_copies_and_checks_the_destination_length()
    {
        using var file = SafeTensorsFile.Open(TestPaths.Fixture("mixed.safetensors"));
        var buffer = new byte[12];
        file.CopyTo("a.bias", buffer);
        Assert.Equal(-1.5f, BinaryPrimitives.ReadSingleLittleEndian(buffer));
        var ex = Assert.Throws<ArgumentException>(() => file.CopyTo("a.bias", new byte[11]));
        Assert.Contains("a.bias", ex.Message);
    }

    [Fact]
    public void Header_without_metadata_gives_an_empty_map()
    {
        using var file = SafeTensorsFile.Open(TestPaths.Fixture("no-metadata.safetensors"));
        Assert.Empty(file.Metadata);
        Assert.Equal(["a.bias", "z.weight"], file.Names);
    }

    [Fact]
    public void Unknown_names_and_disposed_files_fail_clearly()
    {
        var file = SafeTensorsFile.Open(TestPaths.Fixture("mixed.safetensors"));
        Assert.Null(file.TryGetInfo("nope"));
        Assert.Contains("'nope'", Assert.Throws<KeyNotFoundException>(() => file.GetInfo("nope")).Message);
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => { _ = file.GetBytes("ids").Length; });
        file.Dispose(); // idempotent
    }

    [Fact]
    public void Missing_file_is_FileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open("/nonexistent/model.safetensors"));
    }

    [Fact]
    public void Open_reports_the_file_path_for_a_bad_file()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, HeaderBytes.Make("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", dataLength: 8));
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal(path, ex.FilePath);
        Assert.Equal("w", ex.TensorName);
        Assert.StartsWith(path + ": tensor 'w': ", ex.Message);

        File.WriteAllBytes(path, [1, 2, 3]);
        var tiny = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("header", tiny.Message);
    }

    // ---- validation rules, one per case: (header JSON, data bytes, declared length override, tensor named or null for "header")

    private const string Ok = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    public static TheoryData<string, string, int, long, string?> Violations => new()
    {
        { "length 0", "{}", 0, 0, null },
        { "length 1", "{}", 0, 1, null },
        { "length over 100 MB", "{}", 0, 100_000_001, null },
        { "length past end of file", "{}", 0, 3, null },
        { "length field maxed", "{}", 0, -1, null },
        { "not JSON", "{abc}", 0, -2, null },
        { "array, not object", "[]", 0, -2, null },
        { "string, not object", "\"x\"", 0, -2, null },
        { "trailing junk", "{} x", 0, -2, null },
        { "two objects", "{}{}", 0, -2, null },
        { "truncated JSON", "{\"w\":", 0, -2, "w" },
        { "comment", "{/*c*/}", 0, -2, null },
        { "duplicate tensor", "{\"w\":" + Ok + ",\"w\":" + Ok + "}", 8, -2, "w" },
        { "metadata not object", "{\"__metadata__\":[1]}", 0, -2, null },
        { "metadata value not string", "{\"__metadata__\":{\"a\":1}}", 0, -2, null },
        { "metadata duplicate key", "{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0, -2, null },
        { "entry not object", "{\"w\":[1,2]}", 0, -2, "w" },
        { "unknown dtype", "{\"w\":{\"dtype\":\"F31\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, -2, "w" },
        { "lower-case dtype", "{\"w\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, -2, "w" },
        { "dtype not string", "{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, -2, "w" },
        { "negative dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, -2, "w" },
        { "fractional dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, -2, "w" },
        { "string dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, -2, "w" },
        { "shape not array", "{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, -2, "w" },
        { "dim over 64 bits", "{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", 8, -2, "w" },
        { "element count overflow", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}", 0, -2, "w" },
        { "byte size overflow", "{\"w\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,0]}}", 0, -2, "w" },
        { "three offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8, -2, "w" },
        { "one offset", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}", 8, -2, "w" },
        { "begin after end", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, -2, "w" },
        { "end past data", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 8, -2, "w" },
        { "size mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 12, -2, "w" },
        { "odd F4 bits", "{\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2, -2, "w" },
        { "missing dtype", "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, -2, "w" },
        { "missing shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, -2, "w" },
        { "missing offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, -2, "w" },
        { "duplicate field", "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, -2, "w" },
        { "overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, -2, "b" },
        { "identical ranges", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4, -2, "b" },
    };

    /// <param name="declared">−2: the real header length; −1: u64.MaxValue; otherwise this value.</param>
    [Theory]
    [MemberData(nameof(Violations))]
    public void Every_rule_violation_is_a_SafeTensorsFormatException(string why, string json, int data, long declared, string? tensor)
    {
        ulong? n = declared switch { -2 => null, -1 => ulong.MaxValue, _ => (ulong)declared };
        byte[] bytes = HeaderBytes.Make(json, data, n);
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsHeader.Parse(bytes, bytes.Length, "case.safetensors"));
        Assert.Equal("case.safetensors", ex.FilePath);
        Assert.Equal(tensor, ex.TensorName);
        Assert.StartsWith(tensor is null ? "case.safetensors: header: " : $"case.safetensors: tensor '{tensor}': ", ex.Message);
        Assert.False(string.IsNullOrWhiteSpace(ex.Detail), why);
    }

    [Fact]
    public void Invalid_utf8_header_is_rejected()
    {
        byte[] json = [.. "{\"a"u8, 0xFF, .. "\":{}}"u8];
        byte[] bytes = HeaderBytes.Make(json);
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsHeader.Parse(bytes, bytes.Length, "x"));
        Assert.Contains("UTF-8", ex.Message);
    }

    public static TheoryData<string, string, int> Accepted => new()
    {
        { "empty header", "{}", 0 },
        { "padded header", "{}      ", 0 },
        { "null metadata", "{\"__metadata__\":null}", 0 },
        { "unknown field ignored", "{\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2],\"extra\":{\"a\":[1]}}}", 2 },
        { "scalar", "{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}", 8 },
        { "zero-size inside another tensor", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,2]}}", 4 },
        { "gap and trailing bytes", "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", 9 },
        { "F4 pair", "{\"w\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,2]}}", 2 },
        { "any key order", "{\"w\":{\"data_offsets\":[0,2],\"shape\":[1],\"dtype\":\"BF16\"}}", 2 },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Valid_edge_cases_parse(string why, string json, int data)
    {
        byte[] bytes = HeaderBytes.Make(json, data);
        var header = SafeTensorsHeader.Parse(bytes, bytes.Length, why);
        foreach (var t in header.TensorsByOffset)
            Assert.InRange(t.ByteOffset + t.ByteLength, 0, bytes.Length);
    }
}
