using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda.Tests.Families;

/// <summary>The kernels' math functions, run on the host against .NET's libm (the CPU backend's scalar paths).</summary>
public class KMathTests
{
    static int Ulps(float a, float b) => a == b ? 0 : Math.Abs(BitConverter.SingleToInt32Bits(a) - BitConverter.SingleToInt32Bits(b));

    static void Within(string name, Func<float, float> mine, Func<float, float> reference, IEnumerable<float> xs, int maxUlps)
    {
        foreach (var x in xs)
        {
            float e = reference(x), a = mine(x);
            if (float.IsNaN(e) && float.IsNaN(a)) continue;
            Assert.True(Ulps(e, a) <= maxUlps && (e == 0 ? float.IsNegative(e) == float.IsNegative(a) : true),
                $"{name}({x:R}): expected {e:R}, got {a:R} ({Ulps(e, a)} ulp)");
        }
    }

    static IEnumerable<float> Samples(int seed, float lo, float hi, int n = 20000)
    {
        var rng = new Random(seed);
        float[] specials = [0f, -0f, 1f, -1f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, 1e-30f, -1e-30f, 88.72283f, 88.72284f, -87.3f, -103.9f, -104.5f];
        foreach (var s in specials) yield return s;
        for (int i = 0; i < n; i++) yield return (float)(lo + (hi - lo) * rng.NextDouble());
        for (int i = 0; i < n / 4; i++) yield return BitConverter.Int32BitsToSingle(rng.Next() | (rng.Next(2) << 31));
    }

    [Fact]
    public void Float_functions_are_within_a_few_ulp_of_libm()
    {
        Within("exp", KMath.Exp, MathF.Exp, Samples(1, -105f, 90f), 2);
        Within("log", KMath.Log, MathF.Log, Samples(2, 0f, 4f), 2);
        Within("log near 1", KMath.Log, MathF.Log, Samples(3, 0.98f, 1.02f), 2);
        Within("tanh", KMath.Tanh, MathF.Tanh, Samples(4, -10f, 10f), 4);
        Within("tanh near 0", KMath.Tanh, MathF.Tanh, Samples(5, -0.01f, 0.01f), 4);
        Within("sigmoid", KMath.Sigmoid, x => 1f / (1f + MathF.Exp(-x)), Samples(6, -90f, 90f), 4);
        // expm1(x) = 2t/(1 − t), t = tanh(x/2): accurate in double near 0, where exp(x) − 1 is not
        Within("expm1", KMath.Expm1, x => { double t = Math.Tanh(x / 2.0); return MathF.Abs(x) < 1 ? (float)(2 * t / (1 - t)) : (float)(Math.Exp(x) - 1.0); }, Samples(7, -1f, 1f), 4);
    }

    [Fact]
    public void Max_and_min_are_dotnet_ieee_maximum_and_minimum()
    {
        float[] v = [float.NaN, float.NegativeInfinity, -1f, -0f, 0f, 1f, float.PositiveInfinity];
        foreach (var a in v)
            foreach (var b in v)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(MathF.Max(a, b)) | (float.IsNaN(a) || float.IsNaN(b) ? -1 : 0),
                    BitConverter.SingleToInt32Bits(KMath.Max(a, b)) | (float.IsNaN(a) || float.IsNaN(b) ? -1 : 0));
                Assert.Equal(BitConverter.SingleToInt32Bits(MathF.Min(a, b)) | (float.IsNaN(a) || float.IsNaN(b) ? -1 : 0),
                    BitConverter.SingleToInt32Bits(KMath.Min(a, b)) | (float.IsNaN(a) || float.IsNaN(b) ? -1 : 0));
                Assert.Equal(float.IsNaN(MathF.Max(a, b)), float.IsNaN(KMath.Max(a, b)));
            }
    }

    /// <summary>On the Box–Muller domain: u1 = k/(2²⁴+1), k ≥ 1, and 2π·u2, u2 = k/2²⁴.</summary>
    [Fact]
    public void Double_log_and_cos_are_within_one_ulp_of_libm()
    {
        static long Ulps64(double a, double b) => Math.Abs(BitConverter.DoubleToInt64Bits(a) - BitConverter.DoubleToInt64Bits(b));
        var rng = new Random(8);
        for (int i = 0; i < 200000; i++)
        {
            uint k = (uint)rng.Next(1 << 24);
            double u1 = (k + 1) * (1.0 / 16777217.0), u2 = k * (1.0 / 16777216.0);
            Assert.True(Ulps64(Math.Log(u1), KMath.Log(u1)) <= 1, $"log({u1:R})");
            Assert.True(Ulps64(Math.Cos(2.0 * Math.PI * u2), KMath.Cos(2.0 * Math.PI * u2)) <= 1, $"cos(2π·{u2:R})");
        }
        foreach (var k in new uint[] { 0, 1, 1 << 22, 1 << 23, 3 << 22, (1 << 24) - 1 }) // 0, π/2, π, 3π/2 and the ends
        {
            double u2 = k * (1.0 / 16777216.0);
            Assert.True(Ulps64(Math.Cos(2.0 * Math.PI * u2), KMath.Cos(2.0 * Math.PI * u2)) <= 1, $"cos(2π·{u2:R})");
        }
    }
}
