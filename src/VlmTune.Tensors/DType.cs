namespace VlmTune.Tensors;

/// <summary>
/// Element type of a tensor's storage. Compute on the CPU backend happens in f32; bf16/f16 are storage
/// formats that kernels widen on load. Packed 4-bit weights arrive with the QLoRA work as their own dtype.
/// </summary>
public enum DType : byte
{
    F32,
    BF16,
    F16,
    I32,
    I64,
    U8,
}

public static class DTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this DType dtype) => dtype switch
    {
        DType.F32 or DType.I32 => 4,
        DType.BF16 or DType.F16 => 2,
        DType.I64 => 8,
        DType.U8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static bool IsFloat(this DType dtype) => dtype is DType.F32 or DType.BF16 or DType.F16;

    /// <summary>Lower-case name used in messages and files ("f32", "bf16", ...).</summary>
    public static string Name(this DType dtype) => dtype switch
    {
        DType.F32 => "f32",
        DType.BF16 => "bf16",
        DType.F16 => "f16",
        DType.I32 => "i32",
        DType.I64 => "i64",
        DType.U8 => "u8",
        _ => dtype.ToString(),
    };
}
