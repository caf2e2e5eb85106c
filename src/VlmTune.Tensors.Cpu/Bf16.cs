namespace VlmTune.Tensors.Cpu;

/// <summary>bfloat16 bit conversions (bf16 is the upper half of an IEEE f32).</summary>
public static class Bf16
{
    public static float ToFloat(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    /// <summary>Round to nearest even; NaN stays a quiet NaN.</summary>
    public static ushort FromFloat(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7FFFFFFF) > 0x7F800000) return (ushort)((u >> 16) | 0x40);
        u += 0x7FFF + ((u >> 16) & 1);
        return (ushort)(u >> 16);
    }
}
