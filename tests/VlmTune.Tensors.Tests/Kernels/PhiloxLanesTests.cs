using VlmTune.Tensors.Cpu;
using VlmTune.Tensors.Cpu.Kernels;

namespace VlmTune.Tensors.Tests.Kernels;

// PhiloxLanes (8 or 4 counters per vector) against Philox.Block (the scalar generator the CUDA backend also matches):
// word 0 bit-identical on every path this machine runs, every tail length, counters whose low word wraps, seeds with
// both halves set; and dropout / uniform fills on the CPU backend equal the per-element definition.
public sealed unsafe class PhiloxLanesTests
{
    public static TheoryData<int> Paths() => new() { 1, 4, 8 };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Word0_is_bit_identical_to_the_scalar_generator(int lanes)
    {
        var cases = new (ulong Seed, ulong Counter)[]
        {
            (0, 0), (42, 11), (0xDEAD_BEEF_0123_4567, 0xFFFF_FFF0), (ulong.MaxValue, ulong.MaxValue - 40), (7, 1UL << 40),
        };
        var words = new uint[77];
        foreach (var (seed, counter) in cases)
            for (int n = 0; n <= words.Length; n += n < 20 ? 1 : 19)
            {
                Array.Fill(words, 0xA5A5_A5A5u);
                fixed (uint* w = words) PhiloxLanes.Word0(seed, counter, w, n, lanes);
                for (int i = 0; i < n; i++)
                    Assert.True(words[i] == Philox.Block(seed, counter + (ulong)i).Item1,
                        $"lanes {lanes}, seed {seed:X}, counter {counter:X} + {i} of {n}");
                for (int i = n; i < words.Length; i++) Assert.Equal(0xA5A5_A5A5u, words[i]);   // nothing past n written
            }
    }

    [Fact]
    public void Dropout_and_uniform_fill_equal_the_per_element_definition()
    {
        var device = new CpuBackend(2).AsDevice();
        const int n = 3 * 4096 + 13;                       // several chunks per thread and a tail
        var xs = Enumerable.Range(0, n).Select(i => MathF.Sin(i) + 0.5f).ToArray();
        var x = Ops.FromArray(xs, new Shape(n), device);
        foreach (float p in new[] { 0.1f, 0.5f, 0.9f })
        {
            var y = Ops.Dropout(x, p, seed: 99, offset: 1234).ToArray<float>();
            for (int i = 0; i < n; i++)
            {
                float expected = Philox.Uniform(99, 1234 + (ulong)i) >= p ? xs[i] * (1f / (1f - p)) : 0f;
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(y[i]), $"p {p}, element {i}");
            }
        }
        var u = Ops.Empty(new Shape(n), DType.F32, device);
        device.Backend.RandomUniform(u, 5, 77, -2f, 3f);
        var us = u.ToArray<float>();
        for (int i = 0; i < n; i++) Assert.Equal(-2f + 5f * Philox.Uniform(5, 77 + (ulong)i), us[i]);
    }
}
