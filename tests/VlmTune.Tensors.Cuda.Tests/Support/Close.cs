namespace VlmTune.Tensors.Cuda.Tests.Support;

public static class Close
{
    /// <summary>Asserts |a − e| ≤ atol + rtol·|e| elementwise, reporting the worst element.</summary>
    public static void Equal(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float rtol = 1e-5f, float atol = 1e-6f, string what = "")
    {
        if (expected.Length != actual.Length)
            throw new Xunit.Sdk.XunitException($"{what}: length {actual.Length} != expected {expected.Length}");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (double.IsInfinity(e) && e == a) continue;
            double excess = Math.Abs(a - e) - (atol + rtol * Math.Abs(e));
            if (double.IsNaN(excess) || excess > worst) { worst = double.IsNaN(excess) ? double.PositiveInfinity : excess; at = i; }
        }
        if (at >= 0)
            throw new Xunit.Sdk.XunitException($"{what}: element {at} of {expected.Length}: expected {expected[at]:G9}, got {actual[at]:G9} (rtol {rtol}, atol {atol})");
    }

    /// <summary>Same values, same shape and dtype: the CUDA result against the CPU backend's.</summary>
    public static void Tensors(Tensor cpu, Tensor cuda, float rtol = 1e-5f, float atol = 1e-6f, string what = "")
    {
        if (cpu.Shape != cuda.Shape) throw new Xunit.Sdk.XunitException($"{what}: shape {cuda.Shape} != cpu {cpu.Shape}");
        if (cpu.DType != cuda.DType) throw new Xunit.Sdk.XunitException($"{what}: dtype {cuda.DType.Name()} != cpu {cpu.DType.Name()}");
        Equal(cpu.ToFloatArray(), cuda.ToFloatArray(), rtol, atol, what);
    }
}
