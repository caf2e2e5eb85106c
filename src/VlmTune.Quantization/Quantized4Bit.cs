namespace VlmTune.Quantization;

/// <summary>
/// A tensor quantised to 4 bits the bitsandbytes way (one <c>QuantState</c> plus its packed weight).
///
/// Legend: N = element count (product of Shape), B = blocks = ceil(N / Blocksize), B2 = ceil(B / 256).
/// Elements are the row-major flattening of Shape ([out, in] for a Linear weight); block b covers elements
/// [b·Blocksize, (b+1)·Blocksize), so a block may straddle two rows when in % Blocksize != 0.
/// </summary>
public sealed class Quantized4Bit
{
    /// <summary>Double quantisation always uses this nested block size (bitsandbytes' quantize_4bit).</summary>
    public const int NestedBlocksize = 256;

    /// <summary>(N+1)/2 bytes; element 2j in the high nibble, 2j+1 in the low; odd N padded with the code of 0.0.</summary>
    public required byte[] Packed { get; init; }

    /// <summary>(B) f32 block absmax; null when double-quantised.</summary>
    public float[]? Absmax { get; init; }

    /// <summary>(B) 8-bit codes of absmax − Offset in the dynamic map; null without double quantisation.</summary>
    public byte[]? QuantizedAbsmax { get; init; }

    /// <summary>(B2) f32 absmax of each 256-block of (absmax − Offset); null without double quantisation.</summary>
    public float[]? NestedAbsmax { get; init; }

    /// <summary>mean(absmax), added back after the nested dequantisation; 0 without double quantisation.</summary>
    public float Offset { get; init; }

    /// <summary>(256) the dynamic map codes (bitsandbytes stores a copy as nested_quant_map).</summary>
    public float[]? NestedCode { get; init; }

    /// <summary>Logical shape of the original tensor, e.g. [out, in].</summary>
    public required long[] Shape { get; init; }

    public required int Blocksize { get; init; }

    public required QuantType QuantType { get; init; }

    /// <summary>The original weight dtype as torch names it ("float32", "bfloat16", "float16").</summary>
    public string Dtype { get; init; } = "float32";

    public bool DoubleQuant => QuantizedAbsmax is not null;

    /// <summary>N, the number of logical elements.</summary>
    public long Count
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>B, the number of 4-bit blocks.</summary>
    public int BlockCount => checked((int)((Count + Blocksize - 1) / Blocksize));

    /// <summary>Bytes of quantised payload plus scale state (packed, absmax or its nested form, offset). Tables excluded.</summary>
    public long StateBytes =>
        Packed.LongLength
        + (DoubleQuant ? QuantizedAbsmax!.LongLength + 4L * NestedAbsmax!.LongLength + 4 : 4L * Absmax!.LongLength);

    /// <summary>Checks that every array has the length the shape and block size imply.</summary>
    public void Validate(string what = "quantized tensor")
    {
        BlockMath.CheckBlocksize(Blocksize, what);
        foreach (long d in Shape)
            if (d < 0) throw new QuantizationFormatException($"{what}: negative dimension in shape [{string.Join(", ", Shape)}]");
        long n = Count;
        if (Packed.LongLength != (n + 1) / 2)
            throw new QuantizationFormatException($"{what}: packed has {Packed.LongLength} bytes, shape [{string.Join(", ", Shape)}] needs {(n + 1) / 2}");
        int blocks = BlockCount;
        if (DoubleQuant)
        {
            if (QuantizedAbsmax!.Length != blocks)
                throw new QuantizationFormatException($"{what}: absmax has {QuantizedAbsmax.Length} codes, expected {blocks} blocks");
            int nested = (blocks + NestedBlocksize - 1) / NestedBlocksize;
            if (NestedAbsmax is null || NestedAbsmax.Length != nested)
                throw new QuantizationFormatException($"{what}: nested_absmax has {NestedAbsmax?.Length ?? 0} values, expected {nested}");
            if (NestedCode is null || NestedCode.Length != 256)
                throw new QuantizationFormatException($"{what}: nested_quant_map has {NestedCode?.Length ?? 0} values, expected 256");
        }
        else if (Absmax is null || Absmax.Length != blocks)
        {
            throw new QuantizationFormatException($"{what}: absmax has {Absmax?.Length ?? 0} values, expected {blocks} blocks");
        }
    }
}
