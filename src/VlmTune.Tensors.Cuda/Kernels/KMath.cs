using ILGPU;
using ILGPU.Runtime.Cuda;

namespace VlmTune.Tensors.Cuda.Kernels;

/// <summary>
/// Math for kernels, written with + − × ÷, sqrt, floor and bit operations only. ILGPU's PTX backend has no
/// implementation of MathF/Math Exp, Log, Cos, … unless ILGPU.Algorithms is enabled (the kernel fails to compile:
/// "LogF does not have an intrinsic implementation"), and its Tanh is <c>tanh.approx.f32</c> (about 2⁻¹¹ relative);
/// MathF.Max/Min become <c>max.f32</c>/<c>min.f32</c>, which return the non-NaN operand where .NET returns NaN.
/// These versions are within ~2 ulp of the CPU backend's libm/TensorPrimitives results and behave the same on
/// NaN, ±∞ and ±0. <see cref="MulRn"/>/<see cref="AddRn"/> are products/sums ptxas may not contract into an FMA
/// (plain <c>mul.f32</c>+<c>add.f32</c> may be), for results that must equal the CPU's bit for bit on a GPU.
/// </summary>
public static class KMath
{
    const float Ln2HiF = 0.693145751953125f;      // 0x3F317200: 16 significant bits, n·Ln2HiF exact for |n| ≤ 256
    const float Ln2LoF = 1.42860682e-06f;         // 0x35BFBE8E: ln 2 − Ln2HiF
    const double Ln2Hi = 6.93147180369123816490e-01; // 0x3FE62E42FEE00000 (fdlibm's split)
    const double Ln2Lo = 1.90821492927058770002e-10; // 0x3DEA39EF35793C76
    // π/2 in three parts (fdlibm's pio2_1, pio2_2, pio2_2t): k·Pio2A and k·Pio2B are exact for small integers k.
    const double Pio2A = 1.57079632673412561417e+00;  // 0x3FF921FB54400000
    const double Pio2B = 6.07710050630396597660e-11;  // 0x3DD0B4611A600000
    const double Pio2C = 2.02226624879595063154e-21;  // 0x3BA3198A2E037073
    const double TwoOverPi = 6.36619772367581382433e-01;

    public static bool IsNegative(float x) => (Interop.FloatAsInt(x) & 0x80000000u) != 0;

    /// <summary>IEEE 754 maximum, as .NET's MathF.Max and TensorPrimitives.Max: NaN wins, +0 beats −0.</summary>
    public static float Max(float a, float b)
    {
        if (a != b) return float.IsNaN(a) ? a : (b < a ? a : b); // b NaN: b < a is false → b
        return IsNegative(b) ? a : b;
    }

    /// <summary>IEEE 754 minimum, as .NET's MathF.Min and TensorPrimitives.Min: NaN wins, −0 beats +0.</summary>
    public static float Min(float a, float b)
    {
        if (a != b) return float.IsNaN(a) ? a : (a < b ? a : b);
        return IsNegative(a) ? a : b;
    }

    /// <summary>a·b rounded to nearest, never fused with a following add on a GPU.</summary>
    public static float MulRn(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("mul.rn.f32 %0, %1, %2;", out float r, a, b);
            return r;
        }
        return a * b;
    }

    /// <summary>a+b rounded to nearest, never fused with a preceding multiply on a GPU.</summary>
    public static float AddRn(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("add.rn.f32 %0, %1, %2;", out float r, a, b);
            return r;
        }
        return a + b;
    }

    static float Pow2(int n) => Interop.IntAsFloat((uint)(n + 127) << 23); // n in [-126, 127]

    /// <summary>eˣ: n = round(x/ln2), r = x − n·ln2 (two-part ln2), degree-7 Taylor on |r| ≤ ln2/2, × 2ⁿ in two steps.</summary>
    public static float Exp(float x)
    {
        if (float.IsNaN(x)) return x;
        if (x > 89f) return float.PositiveInfinity;
        if (x < -104f) return 0f;
        float n = MathF.Floor(x * 1.44269504f + 0.5f);
        float r = x - n * Ln2HiF - n * Ln2LoF;
        float p = 1f + r * (1f + r * (0.5f + r * (1f / 6 + r * (1f / 24 + r * (1f / 120 + r * (1f / 720 + r * (1f / 5040)))))));
        int k = (int)n, h = k / 2;
        // p·2^h is exact (normal); the second factor rounds once, into the subnormals or to ∞ where the result goes there.
        return p * Pow2(h) * Pow2(k - h);
    }

    /// <summary>eˣ − 1, accurate near 0 (Taylor to degree 8 on |x| ≤ 0.35, else Exp − 1).</summary>
    public static float Expm1(float x)
    {
        if (x > 0.35f || x < -0.35f || float.IsNaN(x)) return Exp(x) - 1f;
        return x * (1f + x * (0.5f + x * (1f / 6 + x * (1f / 24 + x * (1f / 120 + x * (1f / 720 + x * (1f / 5040 + x * (1f / 40320))))))));
    }

    /// <summary>ln x: x = m·2ᵉ with m in [√½, √2), log1p(m − 1) by the atanh series in s = f/(2+f) (fdlibm's arrangement).</summary>
    public static float Log(float x)
    {
        if (float.IsNaN(x) || x < 0f) return float.NaN;
        if (x == 0f) return float.NegativeInfinity;
        if (x == float.PositiveInfinity) return x;
        int e = 0;
        uint u = Interop.FloatAsInt(x);
        if (u < 0x00800000u)
        {
            u = Interop.FloatAsInt(x * 8388608f); // subnormal: scale by 2^23
            e = -23;
        }
        e += (int)(u >> 23) - 127;
        uint mb = (u & 0x007FFFFFu) | 0x3F800000u;
        if (mb > 0x3FB504F3u) { mb -= 0x00800000u; e++; } // m > √2: halve it
        float f = Interop.IntAsFloat(mb) - 1f;
        float s = f / (2f + f), z = s * s;
        float rr = z * (2f / 3 + z * (2f / 5 + z * (2f / 7 + z * (2f / 9))));
        float hfsq = 0.5f * f * f;
        float lm = f - (hfsq - s * (hfsq + rr));
        return e * Ln2HiF + (lm + e * Ln2LoF);
    }

    /// <summary>tanh x = −u/(u+2) with u = expm1(−2|x|), sign of x (no cancellation near 0).</summary>
    public static float Tanh(float x)
    {
        float a = MathF.Abs(x);
        if (float.IsNaN(a)) return x;
        float u = Expm1(-2f * a);
        float t = -u / (u + 2f);
        return IsNegative(x) ? -t : t;
    }

    /// <summary>1 / (1 + e⁻ˣ), TensorPrimitives.Sigmoid's formula.</summary>
    public static float Sigmoid(float x) => 1f / (1f + Exp(-x));

    /// <summary>ln x for finite x &gt; 0 in double (the same arrangement as <see cref="Log(float)"/>, series to z¹⁰).</summary>
    public static double Log(double x)
    {
        ulong u = Interop.FloatAsInt(x);
        int e = (int)(u >> 52) - 1023;
        ulong mb = (u & 0x000FFFFFFFFFFFFFUL) | 0x3FF0000000000000UL;
        if (mb > 0x3FF6A09E667F3BCDUL) { mb -= 0x0010000000000000UL; e++; } // m > √2
        double f = Interop.IntAsFloat(mb) - 1.0;
        double s = f / (2.0 + f), z = s * s;
        double rr = z * (2.0 / 3 + z * (2.0 / 5 + z * (2.0 / 7 + z * (2.0 / 9 + z * (2.0 / 11 + z * (2.0 / 13
            + z * (2.0 / 15 + z * (2.0 / 17 + z * (2.0 / 19 + z * (2.0 / 21))))))))));
        double hfsq = 0.5 * f * f;
        double lm = f - (hfsq - s * (hfsq + rr));
        return e * Ln2Hi + (lm + e * Ln2Lo);
    }

    /// <summary>cos x in double for moderate |x| (Cody–Waite reduction by π/2 in three parts, Taylor on |r| ≤ π/4).</summary>
    public static double Cos(double x)
    {
        double k = Math.Floor(x * TwoOverPi + 0.5);
        double r = x - k * Pio2A - k * Pio2B - k * Pio2C;
        int q = (int)k & 3;
        double z = r * r;
        if ((q & 1) == 0)
        {
            double hz = 0.5 * z, w = 1.0 - hz;
            double tail = z * z * (1.0 / 24 + z * (-1.0 / 720 + z * (1.0 / 40320 + z * (-1.0 / 3628800 + z * (1.0 / 479001600
                + z * (-1.0 / 87178291200 + z * (1.0 / 20922789888000 + z * (-1.0 / 6402373705728000))))))));
            double c = w + (((1.0 - w) - hz) + tail);
            return q == 0 ? c : -c;
        }
        double sn = r + r * z * (-1.0 / 6 + z * (1.0 / 120 + z * (-1.0 / 5040 + z * (1.0 / 362880 + z * (-1.0 / 39916800
            + z * (1.0 / 6227020800 + z * (-1.0 / 1307674368000 + z * (1.0 / 355687428096000))))))));
        return q == 1 ? -sn : sn;
    }

    // π/2 = PiO2Hi + PiO2Lo; PiO2Hi has 33 significant bits, so k·PiO2Hi is exact for |k| < 2^20.
    const double PiO2Hi = 1.57079632673412561417, PiO2Lo = 6.07710050650619224932e-11;

    /// <summary>sin and cos of <paramref name="a"/> in double: a = k·π/2 + r, |r| ≤ π/4, Taylor series to r^15 / r^16.</summary>
    public static SinCosPair SinCos(double a)
    {
        double k = Math.Floor(a * TwoOverPi + 0.5);
        double r = (a - k * PiO2Hi) - k * PiO2Lo;
        double r2 = r * r;
        double s = r + r * r2 * (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040 + r2 * (1.0 / 362880
            + r2 * (-1.0 / 39916800 + r2 * (1.0 / 6227020800 + r2 * (-1.0 / 1307674368000)))))));
        double c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320 + r2 * (-1.0 / 3628800
            + r2 * (1.0 / 479001600 + r2 * (-1.0 / 87178291200 + r2 * (1.0 / 20922789888000))))))));
        int q = (int)((long)k & 3);
        return q switch
        {
            0 => new SinCosPair { Sin = s, Cos = c },
            1 => new SinCosPair { Sin = c, Cos = -s },
            2 => new SinCosPair { Sin = -s, Cos = -c },
            _ => new SinCosPair { Sin = -c, Cos = s },
        };
    }
}

public struct SinCosPair
{
    public double Sin, Cos;
}
