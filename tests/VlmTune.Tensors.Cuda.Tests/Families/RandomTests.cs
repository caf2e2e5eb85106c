using VlmTune.Tensors.Cuda.Tests.Support;
using static VlmTune.Tensors.Cuda.Tests.Families.Parity;

namespace VlmTune.Tensors.Cuda.Tests.Families;

public class RandomTests
{
    // seeds with high words set; offsets that carry into the counter's high word inside the draw
    const ulong Seed = 0xDEADBEEF12345678UL;
    const ulong Carry = 0xFFFFFE00UL;

    [Theory]
    [InlineData(0UL, 0f, 1f)]
    [InlineData(12345UL, -0.37f, 0.37f)]
    [InlineData(Carry, 2.5f, 7f)]
    public void Uniform_is_bit_identical_to_cpu(ulong offset, float low, float high)
    {
        var shape = new Shape(7, 143); // 1001 elements
        var cpu = Ops.RandomUniform(shape, Seed, Sim.Cpu, low, high, offset).ToArray<float>();
        Bits(cpu, Ops.RandomUniform(shape, Seed, Sim.Device, low, high, offset).ToArray<float>(), "warp 4");
        Bits(cpu, Ops.RandomUniform(shape, Seed, Sim.Wide, low, high, offset).ToArray<float>(), "warp 32 (other launch geometry)");
    }

    /// <summary>
    /// Box–Muller in double on both sides: the kernel's KMath.Log/Cos are within 1 ulp (double) of the CPU's libm, so
    /// the f32 results agree bit for bit unless a double lands within an ulp of an f32 rounding boundary (odds ~1e-8
    /// per element); this draw of 3001 values has no such case.
    /// </summary>
    [Theory]
    [InlineData(0UL, 0f, 1f)]
    [InlineData(Carry, 0.5f, 2f)]
    public void Normal_is_bit_identical_to_cpu(ulong offset, float mean, float std)
    {
        var shape = new Shape(3001);
        var cpu = Ops.RandomNormal(shape, Seed, Sim.Cpu, mean, std, offset).ToArray<float>();
        Bits(cpu, Ops.RandomNormal(shape, Seed, Sim.Device, mean, std, offset).ToArray<float>());
        // into a bf16 destination: the f32 value rounded once
        var yb = Ops.Empty(shape, DType.BF16, Sim.Device);
        Sim.Device.Backend.RandomNormal(yb, Seed, offset, mean, std);
        Bits(Bf16(Ops.FromArray(cpu, shape, Sim.Cpu)).ToFloatArray(), yb.ToFloatArray(), "bf16");
    }

    [Fact]
    public void Dropout_masks_and_values_are_bit_identical_to_cpu()
    {
        var x = Sim.Rand(3, 11, 91);
        foreach (var (p, offset) in new[] { (0.1f, 0UL), (0.5f, Carry), (0.9f, 77UL) })
        {
            var cpu = Ops.Dropout(x, p, Seed, offset).ToArray<float>();
            Bits(cpu, Ops.Dropout(x.To(Sim.Device), p, Seed, offset).ToArray<float>(), $"p {p}");
        }
        // bf16 in and out: the same mask, values rounded once
        var xb = Bf16(x);
        var expected = Ops.Dropout(F32(xb), 0.25f, Seed, 5);
        var y = Ops.Empty(x.Shape, DType.BF16, Sim.Device);
        Sim.Device.Backend.Dropout(xb.To(Sim.Device), 0.25f, Seed, 5, y);
        Bits(Bf16(expected).ToFloatArray(), y.ToFloatArray(), "bf16");
    }
}
