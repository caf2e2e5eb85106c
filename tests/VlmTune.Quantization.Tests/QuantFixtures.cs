using System.Text.Json;

namespace VlmTune.Quantization.Tests;

/// <summary>
/// Loads tests/fixtures/quant/quant_cases.json (format_version 1), written by tests/reference/quant/make_fixtures.py.
/// </summary>
internal static class QuantFixtures
{
    public const string Generator = "tests/reference/quant/make_fixtures.py";
    private static readonly Lazy<JsonDocument> Doc = new(Load);

    public static JsonElement Root => Doc.Value.RootElement;

    public static IEnumerable<string> CaseNames() => Root.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!);

    public static FixtureCase Case(string name) => new(Root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name));

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VlmTune.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("VlmTune.sln not found above " + AppContext.BaseDirectory);
    }

    private static JsonDocument Load()
    {
        string path = Path.Combine(RepoRoot(), "tests", "fixtures", "quant", "quant_cases.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing; re-run {Generator}");
        var doc = JsonDocument.Parse(File.ReadAllText(path));
        int version = doc.RootElement.GetProperty("format_version").GetInt32();
        if (version != 1) throw new InvalidDataException($"{path}: format_version {version}, expected 1; re-run {Generator}");
        return doc;
    }
}

internal sealed class FixtureCase(JsonElement e)
{
    public string Name => e.GetProperty("name").GetString()!;
    public QuantType Type => e.GetProperty("quant_type").GetString() == "nf4" ? QuantType.Nf4 : QuantType.Fp4;
    public int Blocksize => e.GetProperty("blocksize").GetInt32();
    public bool DoubleQuant => e.GetProperty("double_quant").GetBoolean();
    public bool IsBf16 => e.GetProperty("input_dtype").GetString() == "bfloat16";
    public string Dtype => e.GetProperty("input_dtype").GetString()!;
    public long[] Shape => [.. e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())];
    public byte[] Bytes(string key) => Convert.FromBase64String(e.GetProperty(key).GetString()!);
    public float[] F32(string key)
    {
        byte[] raw = Bytes(key);
        var values = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
        return values;
    }

    public ushort[] InputBf16
    {
        get
        {
            byte[] raw = Bytes("input");
            var values = new ushort[raw.Length / 2];
            Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
            return values;
        }
    }
    public float[] InputF32 => F32("input");
    public string QuantStateJson => e.GetProperty("quant_state_json").GetString()!;
    public float NestedOffset => BitConverter.UInt32BitsToSingle(e.GetProperty("nested_offset_bits").GetUInt32());

    /// <summary>The reference state exactly as the script produced it.</summary>
    public Quantized4Bit State() => DoubleQuant
        ? new Quantized4Bit
        {
            Packed = Bytes("packed"), QuantizedAbsmax = Bytes("absmax_u8"), NestedAbsmax = F32("nested_absmax"), Offset = NestedOffset,
            NestedCode = F32("nested_quant_map"), Shape = Shape, Blocksize = Blocksize, QuantType = Type, Dtype = Dtype,
        }
        : new Quantized4Bit { Packed = Bytes("packed"), Absmax = F32("absmax"), Shape = Shape, Blocksize = Blocksize, QuantType = Type, Dtype = Dtype };

    public Quantized4Bit Quantize(bool reference) => (IsBf16, reference) switch
    {
        (true, true) => Quantizer4Bit.QuantizeRefBf16(InputBf16, Blocksize, Type, DoubleQuant, Shape),
        (true, false) => Quantizer4Bit.QuantizeBf16(InputBf16, Blocksize, Type, DoubleQuant, Shape),
        (false, true) => Quantizer4Bit.QuantizeRef(InputF32, Blocksize, Type, DoubleQuant, Shape),
        (false, false) => Quantizer4Bit.Quantize(InputF32, Blocksize, Type, DoubleQuant, Shape),
    };
}
