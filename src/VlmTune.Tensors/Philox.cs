namespace VlmTune.Tensors;

/// <summary>
/// Philox4x32-10 counter-based generator (Salmon et al. 2011): the value for element i depends only on
/// (seed, counter = offset + i), so the CPU and a GPU backend draw identical numbers in any order or split.
/// Element i uses word 0 of block (seed, offset + i) for a uniform, and words 0 and 1 for a Box–Muller normal.
/// </summary>
public static class Philox
{
    const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    public static (uint, uint, uint, uint) Block(ulong seed, ulong counter)
    {
        uint c0 = (uint)counter, c1 = (uint)(counter >> 32), c2 = 0, c3 = 0;
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int r = 0; r < 10; r++)
        {
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint h0 = (uint)(p0 >> 32), l0 = (uint)p0, h1 = (uint)(p1 >> 32), l1 = (uint)p1;
            (c0, c1, c2, c3) = (h1 ^ c1 ^ k0, l1, h0 ^ c3 ^ k1, l0);
            k0 += W0;
            k1 += W1;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public static float Uniform(ulong seed, ulong counter) => UniformFromWord(Block(seed, counter).Item1);

    /// <summary>The uniform in [0, 1) that word 0 of a block stands for: its top 24 bits · 2⁻²⁴ (exact in f32).</summary>
    public static float UniformFromWord(uint word0) => (word0 >> 8) * UniformUnit;

    /// <summary>2⁻²⁴: the step between uniforms (vector kernels multiply by it themselves).</summary>
    public const float UniformUnit = 1f / 16777216f;

    /// <summary>Standard normal by Box–Muller from words 0 and 1.</summary>
    public static float Normal(ulong seed, ulong counter)
    {
        var (a, b, _, _) = Block(seed, counter);
        double u1 = ((a >> 8) + 1) * (1.0 / 16777217.0); // (0, 1]
        double u2 = (b >> 8) * (1.0 / 16777216.0);
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }
}
