using VlmTune.Tensors;

namespace VlmTune.Checkpoints.SafeTensors;

/// <summary>
/// One tensor entry of a safetensors header, already validated (dtype known, shape × dtype size = byte length,
/// bytes inside the data region, no overlap with another tensor).
/// </summary>
public sealed class TensorInfo
{
    /// <summary>The tensor's key in the header, e.g. "model.text_model.layers.0.self_attn.q_proj.weight".</summary>
    public required string Name { get; init; }

    /// <summary>The dtype string exactly as the file spells it ("F32", "BF16", "U8", "F8_E4M3", ...).</summary>
    public required string DTypeName { get; init; }

    /// <summary>The engine dtype when it has one (F32, BF16, F16, I32, I64, U8); null for e.g. F64, BOOL, I8.</summary>
    public required DType? DType { get; init; }

    /// <summary>Row-major (C order) shape; empty for a scalar.</summary>
    public required long[] Shape { get; init; }

    /// <summary>Offset of the tensor's first byte from the start of the file (8 + header length + data_offsets[0]).</summary>
    public required long ByteOffset { get; init; }

    /// <summary>Number of bytes (data_offsets[1] − data_offsets[0]).</summary>
    public required long ByteLength { get; init; }

    /// <summary>Product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n = checked(n * d);
            return n;
        }
    }

    public override string ToString() => $"{Name} {DTypeName}[{string.Join(", ", Shape)}] @{ByteOffset}+{ByteLength}";
}
