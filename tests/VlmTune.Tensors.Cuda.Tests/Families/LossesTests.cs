using VlmTune.Tensors.Cuda.Tests.Support;
using static VlmTune.Tensors.Cuda.Tests.Support.Parity;

namespace VlmTune.Tensors.Cuda.Tests.Families;

// Label log-probabilities (forward and backward) against the CPU backend. logits (N,V), labels (N).
// Sim.Device's chunks hold 8·16 = 128 vocabulary entries, Sim.Wide's 64·16 = 1024.
public class LossesTests
{
    const int Ignore = -100;

    static Tensor Labels(int n, int v, DType dtype, int seed, int everyIgnored)
    {
        var rng = new Random(seed);
        var l = new long[n];
        for (int i = 0; i < n; i++) l[i] = everyIgnored > 0 && i % everyIgnored == 1 ? Ignore : rng.Next(v);
        return Ops.ToDType(Ops.FromArray(l, new Shape(n), Sim.Cpu), dtype);
    }

    /// <summary>Forward (logp, lse) and backward (dlogits) on <paramref name="device"/> vs the CPU.</summary>
    static void Case(Device device, int n, int v, DType labelType, DType dtype, int everyIgnored = 3, ulong seed = 1)
    {
        var logits = Ops.Mul(Sim.Rand(seed, n, v), Ops.Full(new Shape(n, v), 2f, Sim.Cpu));
        var labels = Labels(n, v, labelType, (int)seed, everyIgnored);
        var dlogp = Sim.Rand(seed + 1, n);

        var ol = Oracle(logits, dtype);
        var logp = Ops.Empty(new Shape(n), DType.F32, Sim.Cpu);
        var lse = Ops.Empty(new Shape(n), DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.LabelLogProbs(ol, labels, Ignore, logp, lse);
        var dl = Ops.Empty(logits.Shape, DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.LabelLogProbsBackward(ol, labels, Ignore, lse, dlogp, dl);

        var gl = On(logits, device, dtype);
        var gla = labels.To(device);
        var glogp = Ops.Empty(new Shape(n), DType.F32, device);
        var glse = Ops.Empty(new Shape(n), DType.F32, device);
        device.Backend.LabelLogProbs(gl, gla, Ignore, glogp, glse);
        var gdl = Ops.Empty(logits.Shape, dtype, device);
        device.Backend.LabelLogProbsBackward(gl, gla, Ignore, glse, dlogp.To(device), gdl);

        string at = $"label_logprobs ({n},{v}) labels {labelType.Name()}";
        Check(logp, glogp, $"{at} logp");
        Check(lse, glse, $"{at} lse");
        Check(dl, gdl, $"{at} dlogits");
        var lp = glogp.ToArray<float>();
        var ids = Ops.ToDType(labels, DType.I64).ToArray<long>();
        for (int i = 0; i < n; i++)
            if (ids[i] == Ignore) Assert.Equal(0f, lp[i]);
    }

    [Theory]
    [InlineData(5, 1, DType.I64)]
    [InlineData(7, 37, DType.I32)]
    [InlineData(3, 300, DType.I64)]
    [InlineData(2, 3000, DType.I32)]
    public void Matches_cpu(int n, int v, DType labelType) => Case(Sim.Device, n, v, labelType, DType.F32);

    [Fact]
    public void Bf16_logits_and_gradients() => Case(Sim.Device, 3, 700, DType.I64, DType.BF16);

    [Fact]
    public void Every_label_ignored_gives_zeros() => Case(Sim.Device, 3, 50, DType.I32, DType.F32, everyIgnored: 1);

    [Fact]
    public void Strided_logits_view()
    {
        // rows of a wider tensor: (N, V) narrowed out of (N, V + 9), row stride V + 9
        int n = 4, v = 200;
        var wide = Sim.Rand(9, n, v + 9);
        var logits = Ops.Contiguous(Ops.Narrow(wide, 1, 4, v));
        var labels = Labels(n, v, DType.I64, 9, 3);
        var logp = Ops.Empty(new Shape(n), DType.F32, Sim.Cpu);
        var lse = Ops.Empty(new Shape(n), DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.LabelLogProbs(logits, labels, Ignore, logp, lse);

        var gl = Ops.Narrow(On(wide, Sim.Device), 1, 4, v);
        Assert.False(gl.IsContiguous);
        var glogp = Ops.Empty(new Shape(n), DType.F32, Sim.Device);
        var glse = Ops.Empty(new Shape(n), DType.F32, Sim.Device);
        Sim.Device.Backend.LabelLogProbs(gl, labels.To(Sim.Device), Ignore, glogp, glse);
        Check(logp, glogp, "strided logp");
        Check(lse, glse, "strided lse");
    }

    [Fact]
    public void Label_outside_the_vocabulary_gives_nan()
    {
        // the CPU backend throws; a kernel cannot, so the loss turns NaN
        var logits = On(Sim.Rand(3, 2, 10), Sim.Device);
        var labels = Ops.FromArray(new long[] { 10, 4 }, new Shape(2), Sim.Device);
        var logp = Ops.Empty(new Shape(2), DType.F32, Sim.Device);
        Sim.Device.Backend.LabelLogProbs(logits, labels, Ignore, logp, Ops.Empty(new Shape(2), DType.F32, Sim.Device));
        var lp = logp.ToArray<float>();
        Assert.True(float.IsNaN(lp[0]));
        Assert.True(lp[1] < 0f);
    }

    [Fact]
    public void Warp_32_matches_cpu() => Case(Sim.Wide, 3, 1500, DType.I64, DType.F32);
}
