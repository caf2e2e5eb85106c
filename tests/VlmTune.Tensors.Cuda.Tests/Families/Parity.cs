using VlmTune.Tensors.Cuda.Tests.Support;

namespace VlmTune.Tensors.Cuda.Tests.Families;

/// <summary>Small helpers shared by the family parity tests (CPU backend = oracle).</summary>
internal static class Parity
{
    public static Tensor Bf16(Tensor t) => Ops.ToDType(t, DType.BF16);
    public static Tensor F32(Tensor t) => Ops.ToDType(t, DType.F32);

    /// <summary>Same float bits (NaN matches any NaN).</summary>
    public static void Bits(float[] expected, float[] actual, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i]) && float.IsNaN(actual[i])) continue;
            uint e = BitConverter.SingleToUInt32Bits(expected[i]), a = BitConverter.SingleToUInt32Bits(actual[i]);
            if (e != a) throw new Xunit.Sdk.XunitException($"{what}: element {i}: expected {expected[i]:R} (0x{e:X8}), got {actual[i]:R} (0x{a:X8})");
        }
    }

    /// <summary>bf16 results against the CPU's f32 result rounded to bf16: within one bf16 ulp (2⁻⁷ relative).</summary>
    public static void Bf16Close(Tensor cpuF32, Tensor cudaBf16, string what = "")
    {
        Assert.Equal(DType.BF16, cudaBf16.DType);
        Close.Equal(Bf16(cpuF32).ToFloatArray(), cudaBf16.ToFloatArray(), rtol: 1f / 128, atol: 1e-6f, what: what);
    }

    /// <summary>Seeded uniform values in [lo, hi) on the CPU.</summary>
    public static Tensor Uniform(ulong seed, float lo, float hi, params int[] shape)
        => Ops.RandomUniform(new Shape(shape), seed, Sim.Cpu, lo, hi);
}
