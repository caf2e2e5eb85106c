namespace VlmTune.Tensors.Quantization;

/// <summary>
/// A frozen linear weight (out, in) stored as 4-bit codes on a device, bitsandbytes layout: the flattened weight in
/// blocks of <see cref="Blocksize"/>, two codes per byte with the first element in the high nibble, one scale per
/// block — either f32 <see cref="Absmax"/>, or double-quantised: u8 <see cref="QuantizedAbsmax"/> through the 256-entry
/// <see cref="NestedCode"/> times the f32 <see cref="NestedAbsmax"/> of its group of 256 blocks, plus <see cref="Offset"/>.
/// value[e] = Code[nibble(e)] · scale[e / Blocksize]. Kernels dequantise it tile by tile inside the GEMM.
/// </summary>
public sealed class Packed4BitWeight
{
    public const int NestedBlocksize = 256;

    public required int OutFeatures { get; init; }
    public required int InFeatures { get; init; }
    public required int Blocksize { get; init; }
    /// <summary>The 16 code values (NF4 or FP4 table).</summary>
    public required float[] Code { get; init; }
    /// <summary>u8 (⌈out·in/2⌉).</summary>
    public required Tensor Packed { get; init; }
    /// <summary>f32 (blocks), when not double-quantised.</summary>
    public Tensor? Absmax { get; init; }
    /// <summary>u8 (blocks), when double-quantised.</summary>
    public Tensor? QuantizedAbsmax { get; init; }
    /// <summary>f32 (⌈blocks/256⌉), when double-quantised.</summary>
    public Tensor? NestedAbsmax { get; init; }
    public float[]? NestedCode { get; init; }
    public float Offset { get; init; }
    /// <summary>
    /// The quant state's dtype (the original weight's: BF16 for a bf16 checkpoint). As bitsandbytes' dequantize_4bit,
    /// every dequantised value code · scale (f32) is rounded to it before the matmul; F32 keeps the f32 product.
    /// </summary>
    public DType ValueDType { get; init; } = DType.F32;
    /// <summary>Label for messages (e.g. the checkpoint key).</summary>
    public string? Name { get; init; }

    public long Count => (long)OutFeatures * InFeatures;
    public int BlockCount => (int)((Count + Blocksize - 1) / Blocksize);
    public bool DoubleQuant => QuantizedAbsmax != null;
    public Device Device => Packed.Device;

    /// <summary>Bytes held on the device (codes + scales).</summary>
    public long ResidentBytes => Packed.Numel + (Absmax?.Numel * 4 ?? 0) + (QuantizedAbsmax?.Numel ?? 0)
        + (NestedAbsmax?.Numel * 4 ?? 0) + (NestedCode?.Length * 4 ?? 0) + Code.Length * 4;
}
