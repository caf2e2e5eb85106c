using System.Text.Json;
using VlmTune.Tensors.Cpu;
using VlmTune.Tensors.Optim;
using VlmTune.Tensors.Tests.Fixtures;
using VlmTune.Tensors.Tests.Support;

namespace VlmTune.Tensors.Tests.OpChecks;

/// <summary>
/// Every op's forward and backward against PyTorch (fixtures from tests/reference/ops/make_op_fixtures.py):
/// within 1e-5 relative (atol = 1e-5 × the tensor's largest magnitude).
/// </summary>
public class TorchParityTests
{
    static Device Cpu => CpuBackend.Device;

    public static TheoryData<string> DifferentiableCases()
    {
        var data = new TheoryData<string>();
        foreach (var c in OpFixtures.Load().Cases)
            if (c.Op is not ("adamw" or "clip_grad_norm")) data.Add(c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(DifferentiableCases))]
    public void Forward_and_backward_match_pytorch(string name)
    {
        var c = OpFixtures.Load().Case(name);
        var inputs = c.Inputs.Select(ToTensor).ToArray();
        var y = Run(c, inputs);
        AssertClose(c.Output, y, $"{name} forward");
        if (c.GradOutput == null || c.Grads.Count == 0) return;
        var gy = ToTensor(c.GradOutput);
        y.Backward(gy);
        for (int i = 0; i < c.Inputs.Count; i++)
            if (c.Grads.TryGetValue(c.Inputs[i].Name, out var expected))
                AssertClose(expected, inputs[i].Grad ?? throw new Xunit.Sdk.XunitException($"{name}: no gradient for {c.Inputs[i].Name}"), $"{name} grad {c.Inputs[i].Name}");
    }

    [Fact]
    public void AdamW_three_steps_match_pytorch()
    {
        var c = OpFixtures.Load().Case("adamw");
        var a = c.Attrs;
        var p = Ops.FromArray(c.Input("p0").Floats, c.Input("p0").Shape, Cpu).RequireGrad();
        var betas = a.GetProperty("betas");
        var opt = new AdamW([p], a.GetProperty("lr").GetSingle(), betas[0].GetSingle(), betas[1].GetSingle(),
            a.GetProperty("eps").GetSingle(), a.GetProperty("weight_decay").GetSingle());
        for (int step = 1; step <= 3; step++)
        {
            var g = c.Input($"g{step}");
            p.Grad = Ops.FromArray(g.Floats, g.Shape, Cpu);
            opt.StepOnce();
            AssertClose(c.ExtraOutput($"p{step}"), p, $"adamw p{step}");
        }
        AssertClose(c.ExtraOutput("exp_avg"), opt.State(0).M, "adamw exp_avg");
        AssertClose(c.ExtraOutput("exp_avg_sq"), opt.State(0).V, "adamw exp_avg_sq");
    }

    [Theory]
    [InlineData("clip_grad_norm")]
    [InlineData("clip_grad_norm_noclip")]
    public void Clip_grad_norm_matches_pytorch(string name)
    {
        var c = OpFixtures.Load().Case(name);
        var pa = Ops.Zeros(c.Input("ga").Shape, DType.F32, Cpu).RequireGrad();
        var pb = Ops.Zeros(c.Input("gb").Shape, DType.F32, Cpu).RequireGrad();
        pa.Grad = ToTensor(c.Input("ga"));
        pb.Grad = ToTensor(c.Input("gb"));
        var norm = GradClip.ClipByGlobalNorm([pa, pb], c.Attrs.GetProperty("max_norm").GetSingle());
        AssertClose(c.ExtraOutput("total_norm"), norm, $"{name} norm");
        AssertClose(c.ExtraOutput("ga_clipped"), pa.Grad, $"{name} ga");
        AssertClose(c.ExtraOutput("gb_clipped"), pb.Grad, $"{name} gb");
    }

    static Tensor Run(OpCase c, Tensor[] x)
    {
        var a = c.Attrs;
        switch (c.Op)
        {
            case "linear": return Ops.Linear(x[0], x[1], x.Length > 2 ? x[2] : null);
            case "matmul": return Ops.MatMul(x[0], x[1]);
            case "add": return Ops.Add(x[0], x[1]);
            case "mul": return Ops.Mul(x[0], x[1]);
            case "scale": return Ops.Scale(x[0], a.GetProperty("s").GetSingle());
            case "embedding": return Ops.Embedding(x[0], x[1]);
            case "transpose": return Ops.Transpose(x[0], a.GetProperty("dim0").GetInt32(), a.GetProperty("dim1").GetInt32());
            case "permute": return Ops.Permute(x[0], a.GetProperty("dims").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            case "concat": return Ops.Concat(x, a.GetProperty("dim").GetInt32());
            case "slice": return Ops.Narrow(x[0], a.GetProperty("dim").GetInt32(), a.GetProperty("start").GetInt32(), a.GetProperty("length").GetInt32());
            case "gather": return Ops.Gather(x[0], a.GetProperty("dim").GetInt32(), x[1]);
            case "layer_norm": return Ops.LayerNorm(x[0], x[1], x[2], a.GetProperty("eps").GetSingle());
            case "rms_norm": return Ops.RmsNorm(x[0], x[1], a.GetProperty("eps").GetSingle());
            case "gelu_tanh": return Ops.GeluTanh(x[0]);
            case "silu": return Ops.Silu(x[0]);
            case "swiglu": return Ops.SwiGlu(x[0], x[1]);
            case "softmax": return Ops.Softmax(x[0]);
            case "log_softmax": return Ops.LogSoftmax(x[0]);
            case "sum": return Ops.Sum(x[0]);
            case "mean": return Ops.Mean(x[0], a.GetProperty("dim").GetInt32());
            case "sdpa":
            {
                Tensor? mask = null;
                if (a.TryGetProperty("key_lengths", out var kl))
                {
                    int b = x[1].Shape[0], s = x[1].Shape[2];
                    var lengths = kl.EnumerateArray().Select(e => e.GetInt32()).ToArray();
                    mask = Ops.FromArray(Enumerable.Range(0, b * s).Select(i => i % s < lengths[i / s] ? 1 : 0).ToArray(), new Shape(b, s), Cpu);
                }
                return Ops.Attention(x[0], x[1], x[2], a.GetProperty("causal").GetBoolean(), a.GetProperty("scale").GetSingle(),
                    a.GetProperty("q_offset").GetInt32(), mask);
            }
            case "rope": return Ops.Rope(x[0], x[1], a.GetProperty("theta").GetSingle());
            case "cross_entropy": return Ops.CrossEntropy(x[0], x[1], mean: a.GetProperty("reduction").GetString() == "mean");
            case "token_logprobs": return Ops.TokenLogProbs(x[0], x[1]);
            case "conv_patchify": return Ops.ConvPatchify(x[0], x[1], x[2]);
            case "pixel_shuffle": return Ops.PixelShuffle(x[0], a.GetProperty("r").GetInt32());
            default: throw new Xunit.Sdk.XunitException($"no engine mapping for op '{c.Op}'");
        }
    }

    static Tensor ToTensor(FixtureTensor f) => f.IsFloat
        ? Ops.FromArray(f.Floats, f.Shape, Cpu).RequireGrad()
        : Ops.FromArray(f.Longs, f.Shape, Cpu);

    static void AssertClose(FixtureTensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.ShapeText, "[" + string.Join(",", actual.Shape.ToArray()) + "]");
        var e = expected.Floats;
        float max = e.Length == 0 ? 0 : e.Max(Math.Abs);
        Approx.Equal(e, actual.ToFloatArray(), rtol: 1e-5f, atol: 1e-5f * Math.Max(max, 1e-3f), what: what);
    }
}
