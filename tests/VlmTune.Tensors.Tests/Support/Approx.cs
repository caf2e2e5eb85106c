namespace VlmTune.Tensors.Tests.Support;

public static class Approx
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
            throw new Xunit.Sdk.XunitException($"{what}: element {at}: expected {expected[at]:G9}, got {actual[at]:G9} (rtol {rtol}, atol {atol})");
    }
}
