using VlmTune.Nn;
using VlmTune.Quantization;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests.Quantized;

/// <summary>The 4-bit linear path: dequantise-inside-GEMM forward, input-only backward, exact dequantisation.</summary>
public class QuantizedLinearTests
{
    static Device Cpu => CpuBackend.Device;

    public static TheoryData<QuantType, bool, int, int, int> Shapes() => new()
    {
        { QuantType.Nf4, true, 64, 300, 96 },
        { QuantType.Nf4, false, 64, 257, 64 },
        { QuantType.Fp4, true, 64, 40, 200 },
        { QuantType.Fp4, false, 128, 33, 70 },   // in % blocksize != 0: blocks straddle rows
        { QuantType.Nf4, true, 32, 600, 48 },    // more than one 256-row tile and > 256 blocks (nested groups)
    };

    static (Linear Layer, Quantized4Bit Q) Make(QuantType t, bool dq, int bs, int outF, int inF, bool bias = false)
    {
        var w = Ops.RandomNormal(new Shape(outF, inF), 5, Cpu);
        var layer = new Linear("layer", w, bias ? Ops.RandomNormal(new Shape(outF), 6, Cpu) : null);
        var q = FourBit.QuantizeWeight(layer, t, bs, dq);
        layer.Quantize(FourBit.ToDevice(q, Cpu, "layer.weight"));
        return (layer, q);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Device_dequantisation_equals_the_reference_bit_for_bit(QuantType t, bool dq, int bs, int outF, int inF)
    {
        var (layer, q) = Make(t, dq, bs, outF, inF);
        var expected = new float[outF * inF];
        Quantizer4Bit.DequantizeRef(q, expected);
        Assert.Equal(expected, layer.DequantizedWeight().ToArray<float>());
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_equals_dequantise_then_linear(QuantType t, bool dq, int bs, int outF, int inF)
    {
        var (layer, _) = Make(t, dq, bs, outF, inF, bias: true);
        var x = Ops.RandomNormal(new Shape(3, 7, inF), 9, Cpu);
        var expected = Ops.Linear(x, layer.DequantizedWeight(), layer.Bias).ToArray<float>();
        var actual = layer.Forward(x).ToArray<float>();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"element {i}: {expected[i]} vs {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_gives_the_input_gradient_only(QuantType t, bool dq, int bs, int outF, int inF)
    {
        var (layer, _) = Make(t, dq, bs, outF, inF);
        var w = layer.DequantizedWeight();
        var x1 = Ops.RandomNormal(new Shape(5, inF), 3, Cpu).RequireGrad();
        var x2 = Ops.FromArray(x1.ToArray<float>(), x1.Shape, Cpu).RequireGrad();
        var gy = Ops.RandomNormal(new Shape(5, outF), 4, Cpu);
        Ops.Sum(Ops.Mul(layer.Forward(x1), gy)).Backward();
        Ops.Sum(Ops.Mul(Ops.Linear(x2, w), gy)).Backward();
        var a = x1.Grad!.ToArray<float>();
        var e = x2.Grad!.ToArray<float>();
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - e[i]) <= 1e-5f * (1 + Math.Abs(e[i])), $"dx {i}: {a[i]} vs {e[i]}");
    }

    [Fact]
    public void Backward_matches_finite_differences()
    {
        var (layer, _) = Make(QuantType.Nf4, true, 64, 20, 64);
        var x = Ops.RandomNormal(new Shape(2, 64), 7, Cpu).RequireGrad();
        var gy = Ops.RandomNormal(new Shape(2, 20), 8, Cpu);
        Ops.Sum(Ops.Mul(layer.Forward(x), gy)).Backward();
        var analytic = x.Grad!.ToArray<float>();
        var x0 = x.ToArray<float>();
        for (int i = 0; i < x0.Length; i += 7)
        {
            double L(float d)
            {
                var xs = (float[])x0.Clone();
                xs[i] += d;
                return Ops.Sum(Ops.Mul(layer.Forward(Ops.FromArray(xs, x.Shape, Cpu)), gy)).Item();
            }
            double numeric = (L(1e-2f) - L(-1e-2f)) / 2e-2;
            Assert.True(Math.Abs(numeric - analytic[i]) < 2e-2 * (1 + Math.Abs(numeric)), $"dx {i}: {analytic[i]} vs {numeric}");
        }
    }

    [Fact]
    public void Double_quantised_nf4_costs_under_0_6_bytes_per_parameter()
    {
        var (layer, _) = Make(QuantType.Nf4, true, 64, 576, 576);
        double bytesPerParam = (double)layer.Quantized!.ResidentBytes / (576 * 576);
        Assert.InRange(bytesPerParam, 0.5, 0.6);
    }
}
