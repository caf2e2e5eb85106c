using System.Text;

namespace VlmTune.Quantization;

/// <summary>
/// The safetensors layout bitsandbytes writes for a 4-bit weight (nn/modules.py Linear4bit._save_to_state_dict +
/// functional.QuantState.as_dict(packed=True) + utils.pack_dict_to_tensor). For a weight key W (e.g. "…q_proj.weight"):
///
///   W                                    U8  [(N+1)/2, 1]  packed nibbles (first element in the high nibble)
///   W.absmax                             F32 [B] (plain) or U8 [B] (double quant)
///   W.quant_map                          F32 [16]
///   W.nested_absmax                      F32 [B2]          double quant only
///   W.nested_quant_map                   F32 [256]         double quant only
///   W.quant_state.bitsandbytes__nf4|fp4  U8  [len]         UTF-8 json.dumps of {quant_type, blocksize, dtype, shape
///                                                          [, nested_blocksize, nested_dtype, nested_offset]}
/// All multi-byte values little-endian. Tensor dtype names are safetensors' ("U8", "F32").
/// </summary>
public static class Bnb4BitFormat
{
    /// <summary>The key suffixes, in the order bitsandbytes emits them.</summary>
    public const string AbsmaxSuffix = ".absmax", QuantMapSuffix = ".quant_map", NestedAbsmaxSuffix = ".nested_absmax",
        NestedQuantMapSuffix = ".nested_quant_map", QuantStatePrefix = ".quant_state.bitsandbytes__";

    /// <summary>The entries for weight key <paramref name="name"/>; originalDtype is torch's name ("bfloat16", …).</summary>
    public static IEnumerable<(string Key, string DType, long[] Shape, byte[] Data)> ToTensors(string name, Quantized4Bit q, string originalDtype)
    {
        q.Validate(name);
        var list = new List<(string, string, long[], byte[])>
        {
            (name, "U8", [q.Packed.LongLength, 1], (byte[])q.Packed.Clone()),
        };
        if (q.DoubleQuant)
            list.Add((name + AbsmaxSuffix, "U8", [q.QuantizedAbsmax!.Length], (byte[])q.QuantizedAbsmax.Clone()));
        else
            list.Add((name + AbsmaxSuffix, "F32", [q.Absmax!.Length], F32Bytes(q.Absmax)));
        list.Add((name + QuantMapSuffix, "F32", [16], F32Bytes(QuantTables.For(q.QuantType))));
        if (q.DoubleQuant)
        {
            list.Add((name + NestedAbsmaxSuffix, "F32", [q.NestedAbsmax!.Length], F32Bytes(q.NestedAbsmax)));
            list.Add((name + NestedQuantMapSuffix, "F32", [256], F32Bytes(q.NestedCode!)));
        }
        byte[] json = Encoding.UTF8.GetBytes(QuantStateJson(q, originalDtype));
        list.Add((name + QuantStatePrefix + TypeName(q.QuantType), "U8", [json.Length], json));
        return list;
    }

    /// <summary>
    /// The quant_state JSON exactly as Python's json.dumps writes it (", " and ": " separators, key order of
    /// QuantState.as_dict, nested_offset as repr(float(offset))).
    /// </summary>
    public static string QuantStateJson(Quantized4Bit q, string originalDtype)
    {
        var sb = new StringBuilder();
        sb.Append("{\"quant_type\": \"").Append(TypeName(q.QuantType)).Append("\", \"blocksize\": ").Append(q.Blocksize)
          .Append(", \"dtype\": \"").Append(originalDtype).Append("\", \"shape\": [")
          .Append(string.Join(", ", q.Shape)).Append(']');
        if (q.DoubleQuant)
        {
            sb.Append(", \"nested_blocksize\": ").Append(Quantized4Bit.NestedBlocksize)
              .Append(", \"nested_dtype\": \"float32\", \"nested_offset\": ").Append(PythonFloat.Repr(q.Offset));
        }
        return sb.Append('}').ToString();
    }

    /// <summary>
    /// Reads weight <paramref name="name"/> back. lookup returns (dtype, shape, bytes) for a key, or null if absent.
    /// Throws <see cref="QuantizationFormatException"/> naming the key on any missing or inconsistent entry.
    /// </summary>
    public static Quantized4Bit FromTensors(string name, Func<string, (string DType, long[] Shape, byte[] Data)?> lookup)
    {
        string? stateKey = null;
        (string DType, long[] Shape, byte[] Data)? state = null;
        foreach (string t in new[] { "nf4", "fp4" })
        {
            var found = lookup(name + QuantStatePrefix + t);
            if (found is null) continue;
            if (stateKey is not null)
                throw new QuantizationFormatException($"{name}: both {stateKey} and {name + QuantStatePrefix + t} exist; expected exactly one quant_state entry");
            stateKey = name + QuantStatePrefix + t;
            state = found;
        }
        if (stateKey is null || state is null)
            throw new QuantizationFormatException($"{name}: missing {name}{QuantStatePrefix}nf4 (or __fp4); not a bitsandbytes 4-bit weight");
        var header = QuantStateHeader.Parse(stateKey, Encoding.UTF8.GetString(Expect(stateKey, state, "U8").Data));
        if (!stateKey.EndsWith(TypeName(header.Type), StringComparison.Ordinal))
            throw new QuantizationFormatException($"{stateKey}: quant_type \"{TypeName(header.Type)}\" does not match the key suffix");

        byte[] packed = Expect(name, lookup(name), "U8").Data;
        var absmaxEntry = Require(name + AbsmaxSuffix, lookup);
        float[] quantMap = ReadF32(name + QuantMapSuffix, Require(name + QuantMapSuffix, lookup), 16);
        ReadOnlySpan<float> table = QuantTables.For(header.Type);
        for (int i = 0; i < 16; i++)
            if (quantMap[i] != table[i]) // numerically: a zero entry stored as −0 (as some writers do) is the table's 0
                throw new QuantizationFormatException($"{name + QuantMapSuffix}: entry {i} is {quantMap[i]:R}, the {TypeName(header.Type)} table has {table[i]:R}");

        Quantized4Bit q;
        if (header.NestedOffset is double offset)
        {
            var codes = Expect(name + AbsmaxSuffix, absmaxEntry, "U8").Data;
            float[] nested = ReadF32(name + NestedAbsmaxSuffix, Require(name + NestedAbsmaxSuffix, lookup), -1);
            float[] nestedMap = ReadF32(name + NestedQuantMapSuffix, Require(name + NestedQuantMapSuffix, lookup), 256);
            if (header.NestedBlocksize != Quantized4Bit.NestedBlocksize)
                throw new QuantizationFormatException($"{stateKey}: nested_blocksize {header.NestedBlocksize} is not supported (bitsandbytes uses 256)");
            q = new Quantized4Bit
            {
                Packed = packed, QuantizedAbsmax = codes, NestedAbsmax = nested, NestedCode = nestedMap, Offset = (float)offset,
                Shape = header.Shape, Blocksize = header.Blocksize, QuantType = header.Type, Dtype = header.Dtype,
            };
        }
        else
        {
            q = new Quantized4Bit
            {
                Packed = packed, Absmax = ReadF32(name + AbsmaxSuffix, absmaxEntry, -1),
                Shape = header.Shape, Blocksize = header.Blocksize, QuantType = header.Type, Dtype = header.Dtype,
            };
        }
        q.Validate(name);
        return q;
    }

    public static string TypeName(QuantType type) => type == QuantType.Nf4 ? "nf4" : "fp4";

    private static (string DType, long[] Shape, byte[] Data) Require(string key, Func<string, (string DType, long[] Shape, byte[] Data)?> lookup)
        => lookup(key) ?? throw new QuantizationFormatException($"missing tensor {key}");

    private static (string DType, long[] Shape, byte[] Data) Expect(string key, (string DType, long[] Shape, byte[] Data)? entry, string dtype)
    {
        if (entry is null) throw new QuantizationFormatException($"missing tensor {key}");
        if (entry.Value.DType != dtype)
            throw new QuantizationFormatException($"{key}: dtype {entry.Value.DType}, expected {dtype}");
        return entry.Value;
    }

    private static float[] ReadF32(string key, (string DType, long[] Shape, byte[] Data) entry, int expectedCount)
    {
        Expect(key, entry, "F32");
        if (entry.Data.Length % 4 != 0)
            throw new QuantizationFormatException($"{key}: {entry.Data.Length} bytes is not a whole number of F32 values");
        int count = entry.Data.Length / 4;
        if (expectedCount >= 0 && count != expectedCount)
            throw new QuantizationFormatException($"{key}: {count} values, expected {expectedCount}");
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = BitConverter.ToSingle(entry.Data, 4 * i);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        return values;
    }

    private static byte[] F32Bytes(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }
}
