namespace VlmTune.Quantization;

/// <summary>Small shared checks and conversions (bf16 widening/rounding, block-size rules).</summary>
internal static class BlockMath
{
    public const int MinBlocksize = 32;
    public const int MaxBlocksize = 4096;

    /// <summary>bitsandbytes accepts powers of two from 32 (newer versions) to 4096.</summary>
    public static void CheckBlocksize(int blocksize, string what)
    {
        if (blocksize < MinBlocksize || blocksize > MaxBlocksize || (blocksize & (blocksize - 1)) != 0)
            throw new QuantizationFormatException(
                $"{what}: blocksize {blocksize} is not supported; use a power of two from {MinBlocksize} to {MaxBlocksize} (default 64)");
    }

    public static float Bf16ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>f32 → bf16 with round-to-nearest-even (torch's .to(bfloat16)); NaN stays a quiet NaN.</summary>
    public static ushort SingleToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static long Product(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (long d in shape) n *= d;
        return n;
    }
}
