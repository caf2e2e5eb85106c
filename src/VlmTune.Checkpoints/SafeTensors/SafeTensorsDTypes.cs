using VlmTune.Tensors;

namespace VlmTune.Checkpoints.SafeTensors;

/// <summary>
/// The dtype strings of the safetensors format with their element width in bits and their rank in the library's
/// <c>Dtype</c> enum (huggingface/safetensors <c>safetensors/src/tensor.rs</c>: "They MUST be in increasing alignment
/// order"). The Python/Rust writer orders tensors by that rank descending, then by name; we reproduce it.
/// </summary>
public static class SafeTensorsDTypes
{
    // Order = the Rust enum's declaration order (ascending alignment). Width in bits.
    private static readonly (string Name, int Bits)[] Table =
    [
        ("BOOL", 8),
        ("F4", 4),
        ("F6_E2M3", 6),
        ("F6_E3M2", 6),
        ("U8", 8),
        ("I8", 8),
        ("F8_E5M2", 8),
        ("F8_E4M3", 8),
        ("F8_E8M0", 8),
        ("I16", 16),
        ("U16", 16),
        ("F16", 16),
        ("BF16", 16),
        ("I32", 32),
        ("U32", 32),
        ("F32", 32),
        ("C64", 64),
        ("F64", 64),
        ("I64", 64),
        ("U64", 64),
    ];

    private static readonly Dictionary<string, int> RankByName =
        Table.Select((e, i) => (e.Name, i)).ToDictionary(e => e.Name, e => e.i, StringComparer.Ordinal);

    /// <summary>True when <paramref name="name"/> is a dtype string the format defines (case-sensitive, like the library).</summary>
    public static bool IsKnown(string name) => RankByName.ContainsKey(name);

    /// <summary>Element width in bits (4 for F4, 6 for F6_*, 8 for U8, ...). Throws for an unknown name.</summary>
    public static int BitsPerElement(string name) => Table[Rank(name)].Bits;

    /// <summary>Position in the library's alignment-ordered enum; the writer sorts by this, descending.</summary>
    public static int Rank(string name) =>
        RankByName.TryGetValue(name, out int rank)
            ? rank
            : throw new ArgumentException($"unknown safetensors dtype '{name}'", nameof(name));

    /// <summary>The safetensors spelling of an engine dtype.</summary>
    public static string NameOf(DType dtype) => dtype switch
    {
        DType.F32 => "F32",
        DType.BF16 => "BF16",
        DType.F16 => "F16",
        DType.I32 => "I32",
        DType.I64 => "I64",
        DType.U8 => "U8",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no safetensors name for this dtype"),
    };

    /// <summary>The engine dtype for a safetensors name, or null when the engine has none.</summary>
    public static DType? ToDType(string name) => name switch
    {
        "F32" => DType.F32,
        "BF16" => DType.BF16,
        "F16" => DType.F16,
        "I32" => DType.I32,
        "I64" => DType.I64,
        "U8" => DType.U8,
        _ => null,
    };

    /// <summary>
    /// Bytes for <paramref name="shape"/> elements of <paramref name="name"/>, or null when the product overflows
    /// 64 bits or the bit count is not a whole number of bytes (possible only for F4/F6).
    /// </summary>
    internal static long? ByteSize(string name, ReadOnlySpan<long> shape)
    {
        long bits = BitsPerElement(name);
        try
        {
            foreach (long d in shape)
            {
                if (d < 0) return null;
                bits = checked(bits * d);
            }
        }
        catch (OverflowException)
        {
            return null;
        }
        return bits % 8 == 0 ? bits / 8 : null;
    }
}
