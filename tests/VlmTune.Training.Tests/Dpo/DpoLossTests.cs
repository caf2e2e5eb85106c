using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;
using VlmTune.Training.Dpo;

namespace VlmTune.Training.Tests.Dpo;

public class DpoLossTests
{
    static Device Cpu => CpuBackend.Device;

    // |actual − expected| ≤ 1e-5 · max(1, |expected|): 1e-5 absolute for values up to 1, relative above
    // (one case has a loss of ~135, where one f32 ulp is already 1.5e-5).
    static void Close(float expected, float actual, string what)
    {
        float tol = 1e-5f * Math.Max(1f, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected}, got {actual} (tolerance {tol})");
    }

    static void Close(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Close(expected[i], actual[i], $"{what}[{i}]");
    }

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < DpoFixtures.Cases.Count; i++) data.Add(i);
        return data;
    }

    static DpoLossType TypeOf(string name) => name switch
    {
        "sigmoid" => DpoLossType.Sigmoid,
        "ipo" => DpoLossType.Ipo,
        "hinge" => DpoLossType.Hinge,
        "robust" => DpoLossType.Robust,
        _ => throw new InvalidDataException($"unknown loss type {name} in the DPO fixture"),
    };

    /// <summary>Runs the C# loss on a fixture case; returns the result, the (possibly normalised) policy inputs and the leaves.</summary>
    static (DpoLossResult Result, Tensor Pc, Tensor Pr, Tensor LeafC, Tensor LeafR) Run(DpoCase c)
    {
        var shape = new Shape(c.PolicyChosen.Length);
        var leafC = Ops.FromArray(c.PolicyChosen, shape, Cpu).RequireGrad();
        var leafR = Ops.FromArray(c.PolicyRejected, shape, Cpu).RequireGrad();
        Tensor pc = leafC, pr = leafR;
        var rc = Ops.FromArray(c.RefChosen, shape, Cpu);
        var rr = Ops.FromArray(c.RefRejected, shape, Cpu);
        // IPO (current TRL): sums in, the completion lengths normalise inside the loss only; rewards and logps stay sums.
        Tensor? lc = c.ChosenTokenCounts is { } cc ? Ops.FromArray(cc.Select(n => (float)n).ToArray(), shape, Cpu) : null;
        Tensor? lr = c.RejectedTokenCounts is { } rcn ? Ops.FromArray(rcn.Select(n => (float)n).ToArray(), shape, Cpu) : null;
        var settings = new DpoLossSettings { Beta = c.Beta, LossType = TypeOf(c.LossType), LabelSmoothing = c.LabelSmoothing, RpoAlpha = c.RpoAlpha };
        return (DpoLoss.Compute(pc, pr, rc, rr, settings, lc, lr), pc, pr, leafC, leafR);
    }

    [Theory, MemberData(nameof(CaseIndices))]
    public void Loss_and_rewards_match_pytorch(int index)
    {
        var c = DpoFixtures.Cases[index];
        var (result, _, _, _, _) = Run(c);
        Assert.Equal(Shape.Scalar, result.Loss.Shape);
        Close(c.Loss, result.Loss.Item(), $"{c} loss");
        Close(c.ChosenRewards, result.ChosenRewards.ToFloatArray(), $"{c} chosen rewards");
        Close(c.RejectedRewards, result.RejectedRewards.ToFloatArray(), $"{c} rejected rewards");
        Assert.False(result.ChosenRewards.RequiresGrad);
        Assert.False(result.RejectedRewards.RequiresGrad);
    }

    [Theory, MemberData(nameof(CaseIndices))]
    public void Gradients_wrt_policy_logps_match_pytorch(int index)
    {
        var c = DpoFixtures.Cases[index];
        var (result, _, _, leafC, leafR) = Run(c);
        result.Loss.Backward();
        Close(c.GradPolicyChosen, leafC.Grad!.ToFloatArray(), $"{c} d loss / d policy chosen");
        Close(c.GradPolicyRejected, leafR.Grad!.ToFloatArray(), $"{c} d loss / d policy rejected");
    }

    [Theory, MemberData(nameof(CaseIndices))]
    public void Metrics_match_pytorch(int index)
    {
        var c = DpoFixtures.Cases[index];
        var (result, pc, pr, _, _) = Run(c);
        var m = DpoMetrics.From(result, pc, pr);
        Close(c.Metrics, [m.RewardsChosen, m.RewardsRejected, m.RewardsAccuracies, m.RewardsMargins, m.LogpsChosen, m.LogpsRejected],
            $"{c} metrics");
    }

    [Fact]
    public void Ipo_logs_sequence_sums_and_needs_the_token_counts()
    {
        // Current TRL: rewards = β·(π − ref) on sums for IPO too; only the loss divides by the completion lengths.
        var c = DpoFixtures.Cases.First(x => x.LossType == "ipo");
        var (result, _, _, _, _) = Run(c);
        float beta = c.Beta;
        Close(c.PolicyChosen.Zip(c.RefChosen, (p, r) => beta * (p - r)).ToArray(), result.ChosenRewards.ToFloatArray(), "ipo chosen rewards are sums");
        var shape = new Shape(c.PolicyChosen.Length);
        var t = Ops.FromArray(c.PolicyChosen, shape, Cpu);
        Assert.Throws<ArgumentException>(() => DpoLoss.Compute(t, t, t, t, new DpoLossSettings { LossType = DpoLossType.Ipo }));
    }

    [Fact]
    public void Fixtures_cover_all_four_losses_and_label_smoothing()
    {
        var types = DpoFixtures.Cases.Select(c => c.LossType).ToHashSet();
        Assert.Equal(new HashSet<string> { "sigmoid", "ipo", "hinge", "robust" }, types);
        Assert.Contains(DpoFixtures.Cases, c => c.LossType == "sigmoid" && c.LabelSmoothing > 0);
        Assert.Contains(DpoFixtures.Cases, c => c.LossType == "robust" && c.LabelSmoothing > 0);
        Assert.Contains(DpoFixtures.Cases, c => c.LossType == "sigmoid" && c.RpoAlpha > 0);
    }

    [Fact]
    public void Rpo_logs_the_chosen_token_nll_and_needs_the_chosen_token_counts()
    {
        var c = DpoFixtures.Cases.First(x => x.RpoAlpha > 0);
        var (result, pc, pr, _, _) = Run(c);
        float nll = -c.PolicyChosen.Sum() / c.ChosenTokenCounts!.Sum();
        Close(nll, result.ChosenNll!.Item(), "nll_loss");
        var m = DpoMetrics.From(result, pc, pr);
        Assert.Equal("nll_loss", m.Named()[^1].Key);
        Assert.Null(DpoMetrics.From(Run(DpoFixtures.Cases[0]).Result, pc, pr).NllLoss);
        var t = Ops.FromArray(c.PolicyChosen, new Shape(c.PolicyChosen.Length), Cpu);
        var e = Assert.Throws<ArgumentException>(() => DpoLoss.Compute(t, t, t, t, new DpoLossSettings { RpoAlpha = 1f }));
        Assert.Contains("rpo_alpha", e.Message);
    }

    [Fact]
    public void Log_sigmoid_is_stable_and_has_slope_one_half_at_zero()
    {
        var x = Ops.FromArray(new[] { -200f, -30f, 0f, 30f, 200f }, new Shape(5), Cpu).RequireGrad();
        var y = DpoLoss.LogSigmoid(x);
        var values = y.ToFloatArray();
        Close(-200f, values[0], "logσ(-200)");
        Close(-30f, values[1], "logσ(-30)");
        Close(-MathF.Log(2f), values[2], "logσ(0)");
        Close(0f, values[3], "logσ(30)");
        Close(0f, values[4], "logσ(200)");
        Ops.Sum(y).Backward();
        var g = x.Grad!.ToFloatArray();
        Close(1f, g[0], "slope at -200");
        Close(0.5f, g[2], "slope at 0");
        Close(0f, g[4], "slope at 200");
    }

    [Fact]
    public void At_policy_equal_reference_sigmoid_loss_is_log2_and_gradient_is_minus_beta_over_2B()
    {
        var v = Ops.FromArray(new[] { -3f, -7f }, new Shape(2), Cpu);
        var pc = Ops.FromArray(new[] { -3f, -7f }, new Shape(2), Cpu).RequireGrad();
        var r = DpoLoss.Compute(pc, v, v, v, new DpoLossSettings { Beta = 0.1f });
        Close(MathF.Log(2f), r.Loss.Item(), "loss at z = 0");
        r.Loss.Backward();
        Close([-0.1f * 0.5f / 2f, -0.1f * 0.5f / 2f], pc.Grad!.ToFloatArray(), "gradient at z = 0");
    }

    [Fact]
    public void Mismatched_shapes_are_a_shape_error_naming_every_input()
    {
        var a = Ops.FromArray(new[] { -1f, -2f }, new Shape(2), Cpu);
        var b = Ops.FromArray(new[] { -1f, -2f, -3f }, new Shape(3), Cpu);
        var e = Assert.Throws<ShapeException>(() => DpoLoss.Compute(a, a, b, a, new DpoLossSettings()));
        Assert.Contains("reference chosen (3)", e.Message);
    }

    [Theory]
    [InlineData(0f, DpoLossType.Sigmoid, 0f, "Beta")]
    [InlineData(0.1f, DpoLossType.Robust, 0.5f, "LabelSmoothing")]
    [InlineData(0.1f, DpoLossType.Ipo, 0.1f, "LabelSmoothing")]
    [InlineData(0.1f, DpoLossType.Hinge, 0.1f, "LabelSmoothing")]
    public void Bad_settings_name_the_field(float beta, DpoLossType type, float eps, string field)
    {
        var a = Ops.FromArray(new[] { -1f }, new Shape(1), Cpu);
        var s = new DpoLossSettings { Beta = beta, LossType = type, LabelSmoothing = eps };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => DpoLoss.Compute(a, a, a, a, s));
        Assert.Equal(field, e.ParamName);
    }

    [Fact]
    public void Length_normalise_refuses_zero_token_counts()
    {
        var a = Ops.FromArray(new[] { -1f, -2f }, new Shape(2), Cpu);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => DpoLoss.LengthNormalise(a, [3, 0]));
        Assert.Contains("sequence 1 has 0 completion tokens", e.Message);
    }
}
