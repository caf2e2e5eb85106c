using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

/// <summary>
/// Transcendental functions for kernels, in plain arithmetic. Without NVVM's libdevice (which we do not load) ILGPU's
/// PTX backend cannot compile <c>MathF.Exp</c>, <c>MathF.Log</c> or any double-precision <c>Math.Sin/Cos</c> (measured:
/// InternalCompilerException), and maps <c>MathF.Sin/Cos</c> to <c>sin/cos.approx.f32</c>, which has no range reduction.
/// These versions compile everywhere and give the same bits in simulation as on the GPU (up to FMA contraction).
/// Accuracy: <see cref="Exp"/> and <see cref="Log"/> within ~2 ulp of MathF's; <see cref="SinCos"/> to double precision
/// for |a| ≲ 1.6e6 (Cody–Waite reduction by π/2 with a 33-bit head).
/// </summary>
public static class KMath
{
    const float Log2E = 1.44269504f;
    // ln 2 = Ln2Hi + Ln2Lo, Ln2Hi with 9 significant bits, so k·Ln2Hi is exact for |k| < 2^15.
    const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;

    /// <summary>e^x in f32: x = k·ln2 + r, |r| ≤ ln2/2, e^r by its Taylor series to r^7 (truncation &lt; 6e-9), × 2^k.</summary>
    public static float Exp(float x)
    {
        if (!(x > -104f)) return float.IsNaN(x) ? x : 0f; // NaN stays NaN; below ln(2^-150) the result rounds to 0
        if (x > 88.72284f) return float.PositiveInfinity;
        float k = MathF.Floor(x * Log2E + 0.5f);
        float r = x - k * Ln2Hi;
        r -= k * Ln2Lo;
        float p = 1f + r * (1f + r * (0.5f + r * (1f / 6f + r * (1f / 24f + r * (1f / 120f + r * (1f / 720f + r * (1f / 5040f)))))));
        int ki = (int)k;          // -150 … 128
        int k1 = ki >> 1;         // two factors keep both powers normal; the second product rounds into subnormals
        return p * Pow2(k1) * Pow2(ki - k1);
    }

    /// <summary>2^e for e in [-126, 127].</summary>
    static float Pow2(int e) => Interop.IntAsFloat((uint)(e + 127) << 23);

    /// <summary>
    /// ln x in f32: x = 2^e·m with m in [√½, √2), ln m = 2·atanh(t), t = (m−1)/(m+1), |t| ≤ 0.172, series to t^9
    /// (truncation &lt; 3e-9 relative). ln 0 = −∞, ln of a negative or NaN is NaN, ln ∞ = ∞.
    /// </summary>
    public static float Log(float x)
    {
        if (!(x > 0f)) return x == 0f ? float.NegativeInfinity : float.NaN;
        if (x == float.PositiveInfinity) return x;
        int e = 0;
        if (x < 1.17549435e-38f) { x *= 8388608f; e = -23; } // subnormal: scale by 2^23 first
        uint u = Interop.FloatAsInt(x);
        e += (int)(u >> 23) - 127;
        float m = Interop.IntAsFloat((u & 0x007FFFFFu) | 0x3F800000u);
        if (m > 1.41421356f) { m *= 0.5f; e++; }
        float t = (m - 1f) / (m + 1f);
        float t2 = t * t;
        float lm = 2f * t * (1f + t2 * (1f / 3f + t2 * (1f / 5f + t2 * (1f / 7f + t2 * (1f / 9f)))));
        return e * Ln2Hi + (e * Ln2Lo + lm);
    }

    const double TwoOverPi = 0.63661977236758134308;
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
