using VlmTune.Tensors.Cuda.Tests.Support;
using static VlmTune.Tensors.Cuda.Tests.Families.Parity;

namespace VlmTune.Tensors.Cuda.Tests.Families;

public class ReduceTests
{
    static Tensor SumOn(Device d, Tensor x, bool[] reduce, DType dtype = DType.F32)
    {
        var dims = x.Shape.ToArray();
        for (int a = 0; a < dims.Length; a++) if (reduce[a]) dims[a] = 1;
        var y = Ops.Empty(new Shape(dims), dtype, d);
        d.Backend.Sum(x, reduce, y);
        return y;
    }

    /// <summary>Every subset of the axes of (3, 5, 7): group-per-output and thread-per-output paths both appear.</summary>
    [Fact]
    public void Sum_over_every_axis_set_matches_cpu()
    {
        var x = Sim.Rand(1, 3, 5, 7);
        var xd = x.To(Sim.Device);
        for (int mask = 0; mask < 8; mask++)
        {
            var reduce = new[] { (mask & 1) != 0, (mask & 2) != 0, (mask & 4) != 0 };
            Close.Tensors(SumOn(Sim.Cpu, x, reduce), SumOn(Sim.Device, xd, reduce), what: $"axes mask {mask}");
        }
    }

    [Fact]
    public void Sum_reads_strided_and_bf16_inputs()
    {
        var x = Sim.Rand(2, 6, 9, 4);
        var reduce = new[] { true, false, true };
        // a permuted view on the device; the CPU sums its contiguous copy
        var view = Ops.Permute(x.To(Sim.Device), 2, 1, 0);
        var expected = SumOn(Sim.Cpu, Ops.Contiguous(Ops.Permute(x, 2, 1, 0)), reduce);
        Close.Tensors(expected, SumOn(Sim.Device, view, reduce), what: "permuted");
        var xb = Bf16(x);
        var cpu = SumOn(Sim.Cpu, F32(xb), [false, true, true]);
        Close.Tensors(cpu, SumOn(Sim.Device, xb.To(Sim.Device), [false, true, true]), what: "bf16 in");
        Bf16Close(cpu, SumOn(Sim.Device, xb.To(Sim.Device), [false, true, true], DType.BF16), "bf16 in and out");
    }

    [Fact]
    public void Sum_is_deterministic_and_right_at_warp_32()
    {
        var x = Sim.Rand(3, 4, 1001);
        foreach (var reduce in new[] { new[] { false, true }, new[] { true, true }, new[] { true, false } })
        {
            var cpu = SumOn(Sim.Cpu, x, reduce);
            var wide = SumOn(Sim.Wide, x.To(Sim.Wide), reduce);
            Close.Tensors(cpu, wide, what: "warp 32");
            var a = SumOn(Sim.Device, x.To(Sim.Device), reduce);
            var b = SumOn(Sim.Device, x.To(Sim.Device), reduce);
            Close.Tensors(cpu, a, what: "warp 4");
            Bits(a.ToArray<float>(), b.ToArray<float>(), "run to run");
        }
    }

    [Fact]
    public void Sum_over_an_empty_axis_is_zero()
    {
        var x = Ops.Empty(new Shape(3, 0), DType.F32, Sim.Device);
        var y = SumOn(Sim.Device, x, [false, true]);
        Assert.Equal(new float[3], y.ToArray<float>());
    }

    [Fact]
    public void Max_last_axis_matches_cpu_with_nan_and_signed_zero()
    {
        var values = Sim.Rand(4, 6, 37).ToArray<float>();
        for (int c = 0; c < 37; c++) values[37 + c] = -MathF.Abs(values[37 + c]) - 1f; // row 1: all negative
        values[2 * 37 + 11] = float.NaN;                                              // row 2: NaN wins
        for (int c = 0; c < 37; c++) values[3 * 37 + c] = c % 2 == 0 ? -0f : -1f;    // row 3: −0 is the max
        values[3 * 37 + 36] = 0f;                                                     // ... then +0 beats −0
        var x = Ops.FromArray(values, new Shape(6, 37), Sim.Cpu);
        var cpu = Ops.MaxLastAxis(x).ToArray<float>();
        Bits(cpu, Ops.MaxLastAxis(x.To(Sim.Device)).ToArray<float>(), "warp 4");
        Bits(cpu, Ops.MaxLastAxis(x.To(Sim.Wide)).ToArray<float>(), "warp 32");
        // strided rows (a transposed view) and a bf16 input
        var t = Sim.Rand(5, 37, 6);
        var yd = Ops.Empty(new Shape(6, 1), DType.F32, Sim.Device);
        Sim.Device.Backend.MaxLastAxis(Ops.Transpose(t.To(Sim.Device), 0, 1), yd);
        Bits(Ops.MaxLastAxis(Ops.Transpose(t, 0, 1)).ToArray<float>(), yd.ToArray<float>(), "transposed");
        var xb = Bf16(t);
        var yb = Ops.Empty(new Shape(37, 1), DType.F32, Sim.Device);
        Sim.Device.Backend.MaxLastAxis(xb.To(Sim.Device), yb);
        Bits(Ops.MaxLastAxis(F32(xb)).ToArray<float>(), yb.ToArray<float>(), "bf16");
    }

    [Theory]
    [InlineData(DType.I32)]
    [InlineData(DType.I64)]
    public void Count_valid_matches_cpu(DType dtype)
    {
        var rng = new Random(7);
        var labels = new long[1003];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.Next(4) == 0 ? -100 : rng.Next(50000);
        var l64 = Ops.FromArray(labels, new Shape(17, 59), Sim.Cpu);
        var l = Ops.ToDType(l64, dtype);
        foreach (var d in new[] { Sim.Device, Sim.Wide })
        {
            var cpu = Ops.Empty(Shape.Scalar, DType.F32, Sim.Cpu);
            Sim.Cpu.Backend.CountValid(l, -100, cpu);
            var cuda = Ops.Empty(Shape.Scalar, DType.F32, d);
            d.Backend.CountValid(l.To(d), -100, cuda);
            Assert.Equal(cpu.Item(), cuda.Item());
        }
    }
}
