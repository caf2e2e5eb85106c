using VlmTune.Tensors.Cuda.Tests.Support;
using static VlmTune.Tensors.Cuda.Tests.Support.Parity;

namespace VlmTune.Tensors.Cuda.Tests.Families;

// Rotary embedding against the CPU backend. x: (B,H,T,D); positions (T) or (B,T), i32 or i64.
public class RopeTests
{
    static Tensor Positions(int[] shape, DType dtype, int seed, int max)
    {
        var rng = new Random(seed);
        long n = shape.Aggregate(1L, (a, s) => a * s);
        var p = new long[n];
        for (long i = 0; i < n; i++) p[i] = rng.Next(max);
        return Ops.ToDType(Ops.FromArray(p, new Shape(shape), Sim.Cpu), dtype);
    }

    /// <summary>Forward and inverse on <paramref name="device"/> vs the CPU; f32 to ~1e-6 (same angle arithmetic).</summary>
    static void Case(Device device, int b, int h, int t, int d, bool perBatch, DType posType, float theta, DType dtype, int maxPos = 4096)
    {
        var x = Sim.Rand((ulong)(b * 1000 + t * 10 + d), b, h, t, d);
        var pos = Positions(perBatch ? [b, t] : [t], posType, b + t + d, maxPos);
        foreach (bool inverse in new[] { false, true })
        {
            var y = Ops.Empty(x.Shape, DType.F32, Sim.Cpu);
            Sim.Cpu.Backend.Rope(Oracle(x, dtype), pos, theta, y, inverse);
            var gy = Ops.Empty(x.Shape, dtype, device);
            device.Backend.Rope(On(x, device, dtype), pos.To(device), theta, gy, inverse);
            Check(y, gy, $"rope ({b},{h},{t},{d}) positions {pos.Shape} {posType.Name()} θ={theta} inverse={inverse}", rtol: 1e-6f, atol: 1e-6f);
        }
    }

    [Theory]
    [InlineData(2, 3, 5, 8, false, DType.I32, 10000f)]
    [InlineData(1, 2, 7, 6, true, DType.I64, 100000f)]
    [InlineData(3, 1, 3, 64, true, DType.I32, 10000f)]
    [InlineData(1, 1, 1, 2, false, DType.I64, 10000f)]
    public void Matches_cpu(int b, int h, int t, int d, bool perBatch, DType posType, float theta) =>
        Case(Sim.Device, b, h, t, d, perBatch, posType, theta, DType.F32);

    [Fact]
    public void Large_positions_keep_their_accuracy() => Case(Sim.Device, 1, 2, 9, 16, false, DType.I64, 10000f, DType.F32, maxPos: 1_000_000);

    [Fact]
    public void Bf16_in_and_out() => Case(Sim.Device, 2, 2, 5, 12, true, DType.I32, 10000f, DType.BF16);

    [Fact]
    public void Inverse_undoes_the_rotation()
    {
        var x = On(Sim.Rand(3, 2, 3, 5, 8), Sim.Device);
        var pos = Positions([5], DType.I32, 4, 100).To(Sim.Device);
        var y = Ops.Empty(x.Shape, DType.F32, Sim.Device);
        var back = Ops.Empty(x.Shape, DType.F32, Sim.Device);
        Sim.Device.Backend.Rope(x, pos, 10000f, y, inverse: false);
        Sim.Device.Backend.Rope(y, pos, 10000f, back, inverse: true);
        Close.Tensors(x, back, 1e-5f, 1e-6f, "rope then inverse");
    }

    [Fact]
    public void Strided_heads_view()
    {
        // (B,T,H,D) transposed to (B,H,T,D), as the attention layers split heads
        int b = 2, t = 5, h = 3, d = 8;
        var xs = Sim.Rand(41, b, t, h, d);
        var pos = Positions([b, t], DType.I64, 5, 50);
        var y = Ops.Empty(new Shape(b, h, t, d), DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.Rope(Ops.Contiguous(Ops.Transpose(xs, 1, 2)), pos, 10000f, y, false);
        var gx = Ops.Transpose(On(xs, Sim.Device), 1, 2);
        Assert.False(gx.IsContiguous);
        var gy = Ops.Empty(new Shape(b, h, t, d), DType.F32, Sim.Device);
        Sim.Device.Backend.Rope(gx, pos.To(Sim.Device), 10000f, gy, false);
        Check(y, gy, "strided rope", rtol: 1e-6f, atol: 1e-6f);
    }

    [Fact]
    public void Warp_32_matches_cpu() => Case(Sim.Wide, 2, 3, 7, 10, true, DType.I32, 10000f, DType.F32);
}
