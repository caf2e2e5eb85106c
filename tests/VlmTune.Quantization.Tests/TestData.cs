namespace VlmTune.Quantization.Tests;

/// <summary>Seeded N(0, σ²) samples (Box–Muller over System.Random) for parity and error tests.</summary>
internal static class TestData
{
    public static float[] Normal(int count, int seed, float sigma = 1f)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i += 2)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            x[i] = (float)(sigma * r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < count) x[i + 1] = (float)(sigma * r * Math.Sin(2 * Math.PI * u2));
        }
        return x;
    }
}
