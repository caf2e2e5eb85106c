using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;
using VlmTune.Training.Dpo;

namespace VlmTune.Training.Tests.Dpo;

public class DpoMetricsTests
{
    static Device Cpu => CpuBackend.Device;
    static Tensor T(params float[] v) => Ops.FromArray(v, new Shape(v.Length), Cpu);

    [Fact]
    public void Accuracy_is_strict_ties_are_not_accurate()
    {
        // Pair rewards (chosen, rejected): (0.2, 0.1) accurate, (0.1, 0.1) tie, (0, 0.3) wrong, (0, 0) tie.
        var result = new DpoLossResult(Ops.Scalar(0f, Cpu), T(0.2f, 0.1f, 0f, 0f), T(0.1f, 0.1f, 0.3f, 0f));
        var m = DpoMetrics.From(result, T(-1f, -2f, -3f, -4f), T(-5f, -6f, -7f, -8f));
        Assert.Equal(0.25f, m.RewardsAccuracies);
        Assert.Equal(0.075f, m.RewardsChosen, 6);
        Assert.Equal(0.125f, m.RewardsRejected, 6);
        Assert.Equal(-0.05f, m.RewardsMargins, 6);
        Assert.Equal(-2.5f, m.LogpsChosen);
        Assert.Equal(-6.5f, m.LogpsRejected);
    }

    [Fact]
    public void Policy_equal_reference_reads_zero_accuracy()
    {
        var v = T(-3f, -4f, -5f);
        var r = DpoLoss.Compute(v, v, v, v, new DpoLossSettings());
        Assert.Equal(0f, DpoMetrics.From(r, v, v).RewardsAccuracies);
    }

    [Fact]
    public void Named_uses_trl_keys_in_order()
    {
        var m = new DpoMetrics(1, 2, 3, 4, 5, 6);
        Assert.Equal(["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"],
            m.Named().Select(p => p.Key));
        Assert.Equal([1f, 2, 3, 4, 5, 6], m.Named().Select(p => p.Value));
    }
}
