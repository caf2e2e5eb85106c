namespace VlmTune.Tensors.Cuda.Tests.Support;

/// <summary>
/// Helpers for parity tests where the CUDA side runs in f32 or bf16 and the CPU oracle always in f32: the oracle gets
/// the bf16-rounded values widened to f32 (<see cref="Oracle"/>), the device the same values in the tested dtype
/// (<see cref="On"/>), and <see cref="Check"/> compares a device result with the oracle's f32 result, rounded to bf16
/// for a bf16 result.
/// </summary>
public static class Parity
{
    /// <summary>One bf16 ulp relative (2^-7 bounds it from above for every normal value).</summary>
    public const float Bf16Rtol = 1f / 128;

    /// <summary>The oracle's input: <paramref name="t"/> itself for f32, its bf16 rounding widened to f32 otherwise.</summary>
    public static Tensor Oracle(Tensor t, DType dtype) =>
        dtype == DType.F32 ? t : Ops.ToDType(Ops.ToDType(t, dtype), DType.F32);

    /// <summary>The device's input: <paramref name="t"/> (on the CPU) in <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static Tensor On(Tensor t, Device device, DType dtype = DType.F32) => Ops.ToDType(t, dtype).To(device);

    /// <summary>
    /// Asserts the device result equals the oracle's f32 result: within (rtol, atol) when the result is f32; when it is
    /// bf16, against the oracle rounded to bf16, within one bf16 ulp (plus <paramref name="atol"/> for values near 0).
    /// </summary>
    public static void Check(Tensor oracleF32, Tensor device, string what, float rtol = 1e-5f, float atol = 1e-6f)
    {
        if (oracleF32.Shape != device.Shape) throw new Xunit.Sdk.XunitException($"{what}: shape {device.Shape} != oracle {oracleF32.Shape}");
        var expected = device.DType == DType.F32 ? oracleF32 : Ops.ToDType(Ops.ToDType(oracleF32, device.DType), DType.F32);
        float r = device.DType == DType.F32 ? rtol : Math.Max(rtol, Bf16Rtol);
        float a = device.DType == DType.F32 ? atol : Math.Max(atol, 1e-5f);
        Close.Equal(expected.ToFloatArray(), device.ToFloatArray(), r, a, $"{what} ({device.DType.Name()})");
    }
}
