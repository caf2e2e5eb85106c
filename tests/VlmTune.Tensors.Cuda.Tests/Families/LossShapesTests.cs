using VlmTune.Tensors.Cuda.Tests.Support;

namespace VlmTune.Tensors.Cuda.Tests.Families;

/// <summary>Regression: DPO passes labels in the batch's shape (B,T) for logits (B·T,V); the CPU reads them linearly.</summary>
public class LossShapesTests
{
    [Fact]
    public void Labels_in_batch_shape_match_the_cpu()
    {
        var logits = Sim.Rand(3, 6, 11);
        var labels = VlmTune.Tensors.Ops.FromArray(new long[] { 1, -100, 10, 0, 5, -100 }, new Shape(2, 3), Sim.Cpu);
        void Run(Device d, out float[] logp, out float[] dlogits)
        {
            var l = logits.To(d);
            var y = labels.To(d);
            var lp = VlmTune.Tensors.Ops.Empty(new Shape(2, 3), DType.F32, d);
            var lse = VlmTune.Tensors.Ops.Empty(new Shape(2, 3), DType.F32, d);
            d.Backend.LabelLogProbs(l, y, -100, lp, lse);
            var g = VlmTune.Tensors.Ops.Full(new Shape(2, 3), 0.5f, d);
            var dl = VlmTune.Tensors.Ops.Empty(new Shape(6, 11), DType.F32, d);
            d.Backend.LabelLogProbsBackward(l, y, -100, lse, g, dl);
            logp = lp.ToArray<float>();
            dlogits = dl.ToArray<float>();
        }
        Run(Sim.Cpu, out var a, out var da);
        Run(Sim.Device, out var b, out var db);
        Close.Equal(a, b, what: "logp");
        Close.Equal(da, db, what: "dlogits");
    }
}
