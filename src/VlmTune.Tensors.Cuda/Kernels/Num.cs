using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

/// <summary>Scalar helpers usable inside kernels (and on the host): bf16 bit conversions.</summary>
public static class Num
{
    public static float Bf16ToFloat(ushort b) => Interop.IntAsFloat((uint)b << 16);

    /// <summary>Round to nearest even; NaN stays a quiet NaN (bit-identical to the CPU backend's Bf16.FromFloat).</summary>
    public static ushort FloatToBf16(float f)
    {
        uint u = Interop.FloatAsInt(f);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (ushort)((u >> 16) | 0x40u);
        u += 0x7FFFu + ((u >> 16) & 1u);
        return (ushort)(u >> 16);
    }

    /// <summary>IEEE binary16 bits → f32 (exact).</summary>
    public static float HalfToFloat(ushort h)
    {
        uint sign = (uint)(h & 0x8000) << 16;
        int exp = (h >> 10) & 0x1F;
        uint mant = (uint)(h & 0x3FF);
        if (exp == 0x1F) return Interop.IntAsFloat(sign | 0x7F800000u | (mant << 13));
        if (exp == 0)
        {
            if (mant == 0) return Interop.IntAsFloat(sign);
            // subnormal: mant · 2^-24
            float v = mant * 5.9604644775390625e-8f;
            return sign != 0 ? -v : v;
        }
        return Interop.IntAsFloat(sign | ((uint)(exp + 112) << 23) | (mant << 13));
    }

    /// <summary>
    /// f32 → IEEE binary16 bits, round to nearest even, overflow to ±∞, NaN kept quiet — the conversion .NET's
    /// <c>(Half)float</c> performs (ILGPU's own Half conversion truncates on the CPU accelerator, measured).
    /// </summary>
    public static ushort FloatToHalf(float f)
    {
        uint u = Interop.FloatAsInt(f);
        uint sign = (u >> 16) & 0x8000u;
        uint abs = u & 0x7FFFFFFFu;
        if (abs > 0x7F800000u) return (ushort)(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));
        if (abs >= 0x477FF000u) return (ushort)(sign | 0x7C00u); // rounds to ≥ 65520 → ∞
        if (abs < 0x38800000u)
        {
            // subnormal or zero in binary16: value / 2^-24, rounded to nearest even
            if (abs < 0x33000000u) return (ushort)sign; // < 2^-25 rounds to 0
            int e = (int)(abs >> 23);
            uint m = (abs & 0x7FFFFFu) | 0x800000u;
            int shift = 126 - e; // 14 + (113 - e) - 1 + ... : bits to drop so that the result counts 2^-24 units
            uint r = m >> shift;
            uint rem = m & ((1u << shift) - 1u);
            uint half = 1u << (shift - 1);
            if (rem > half || (rem == half && (r & 1u) != 0)) r++;
            return (ushort)(sign | r);
        }
        uint bits = abs + 0xC8000000u; // re-bias exponent: (e - 112) << 23
        bits += 0xFFFu + ((bits >> 13) & 1u);
        return (ushort)(sign | (bits >> 13));
    }
}
