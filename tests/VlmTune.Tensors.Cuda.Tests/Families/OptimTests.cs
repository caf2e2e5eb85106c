using VlmTune.Tensors.Cuda.Tests.Support;
using static VlmTune.Tensors.Cuda.Tests.Families.Parity;

namespace VlmTune.Tensors.Cuda.Tests.Families;

public class OptimTests
{
    /// <summary>Three steps from the same state: p, m, v equal the CPU backend's bit for bit (same operation order).</summary>
    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.BF16)]
    public void AdamW_three_steps_match_cpu_bit_for_bit(DType gradType)
    {
        var shape = new Shape(3, 37);
        var p0 = Sim.Rand(1, 3, 37);
        Tensor[] Init(Device d) => [p0.To(d), Ops.Zeros(shape, DType.F32, d), Ops.Zeros(shape, DType.F32, d)];
        var cpu = Init(Sim.Cpu);
        var cuda = Init(Sim.Device);
        for (int step = 1; step <= 3; step++)
        {
            var g = Ops.ToDType(Ops.Scale(Sim.Rand(10 + (ulong)step, 3, 37), 0.1f * step), gradType);
            var st = new AdamWStep(Lr: 1e-3f * step, Beta1: 0.9f, Beta2: 0.999f, Eps: 1e-8f, WeightDecay: 0.01f, Step: step);
            Sim.Cpu.Backend.AdamW(cpu[0], F32(g), cpu[1], cpu[2], st);
            Sim.Device.Backend.AdamW(cuda[0], g.To(Sim.Device), cuda[1], cuda[2], st);
        }
        for (int i = 0; i < 3; i++) Bits(cpu[i].ToArray<float>(), cuda[i].ToArray<float>(), new[] { "param", "m", "v" }[i]);
    }

    [Fact]
    public void Sum_squares_accumulates_like_cpu_deterministically_at_warp_4_and_32()
    {
        var a = Sim.Rand(2, 1001);
        var b = Ops.Transpose(Sim.Rand(3, 13, 7), 0, 1); // a strided view
        var cpu = Ops.Full(Shape.Scalar, 0.5f, Sim.Cpu);
        Sim.Cpu.Backend.SumSquares(a, cpu);
        Sim.Cpu.Backend.SumSquares(Ops.Contiguous(b), cpu);
        float[]? first = null;
        foreach (var d in new[] { Sim.Device, Sim.Device, Sim.Wide })
        {
            var acc = Ops.Full(Shape.Scalar, 0.5f, d);
            d.Backend.SumSquares(a.To(d), acc);
            d.Backend.SumSquares(Ops.Transpose(Sim.Rand(3, 13, 7).To(d), 0, 1), acc);
            Close.Tensors(cpu, acc, rtol: 1e-6f, what: d.ToString());
            if (d == Sim.Device)
            {
                if (first == null) first = acc.ToArray<float>();
                else Bits(first, acc.ToArray<float>(), "run to run");
            }
        }
    }

    [Theory]
    [InlineData(1f)]    // ‖g‖ ≈ 31: scaled
    [InlineData(100f)]  // factor ≥ 1: unchanged
    public void Clip_scale_matches_cpu(float maxNorm)
    {
        var g = Sim.Rand(4, 7, 143);
        var ss = Ops.Empty(Shape.Scalar, DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.Fill(ss, 0f);
        Sim.Cpu.Backend.SumSquares(g, ss);
        var cuda = g.To(Sim.Device);
        Sim.Device.Backend.ClipScale(cuda, ss.To(Sim.Device), maxNorm);
        Sim.Cpu.Backend.ClipScale(g, ss, maxNorm); // in place
        Bits(g.ToArray<float>(), cuda.ToArray<float>());
    }
}
