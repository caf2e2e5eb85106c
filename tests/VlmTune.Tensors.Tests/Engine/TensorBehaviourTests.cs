using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Tensors.Tests.Engine;

public class TensorBehaviourTests
{
    static Device Cpu => CpuBackend.Device;

    [Fact]
    public void Shape_mismatch_errors_name_both_shapes()
    {
        var a = Ops.Zeros(new Shape(2, 3), DType.F32, Cpu);
        var b = Ops.Zeros(new Shape(4, 5), DType.F32, Cpu);
        var e = Assert.Throws<ShapeException>(() => Ops.MatMul(a, b));
        Assert.Contains("(2,3)", e.Message);
        Assert.Contains("(4,5)", e.Message);
        e = Assert.Throws<ShapeException>(() => Ops.Add(a, b));
        Assert.Contains("(2,3)", e.Message);
        Assert.Contains("(4,5)", e.Message);
        e = Assert.Throws<ShapeException>(() => Ops.Linear(a, b));
        Assert.Contains("(2,3)", e.Message);
        Assert.Contains("(4,5)", e.Message);
    }

    [Fact]
    public void Dtype_mismatch_errors_name_the_dtype()
    {
        var ids = Ops.FromArray(new long[] { 1, 2 }, new Shape(2), Cpu);
        var e = Assert.Throws<ShapeException>(() => Ops.Softmax(ids));
        Assert.Contains("i64", e.Message);
        Assert.Contains("(2)", e.Message);
    }

    [Fact]
    public void Frozen_weights_never_get_a_gradient()
    {
        var frozen = Ops.RandomNormal(new Shape(4, 3), 1, Cpu);
        var trainable = Ops.RandomNormal(new Shape(4, 4), 2, Cpu).RequireGrad();
        var x = Ops.RandomNormal(new Shape(2, 3), 3, Cpu);
        Ops.Sum(Ops.Linear(Ops.Linear(x, frozen), trainable)).Backward();
        Assert.Null(frozen.Grad);
        Assert.NotNull(trainable.Grad);
    }

    [Fact]
    public void Bf16_weights_compute_like_their_f32_values()
    {
        var w32 = Ops.RandomNormal(new Shape(5, 7), 1, Cpu);
        var w16 = Ops.ToDType(w32, DType.BF16);
        var widened = Ops.ToDType(w16, DType.F32);
        var x = Ops.RandomNormal(new Shape(3, 7), 2, Cpu);
        Assert.Equal(Ops.Linear(x, widened).ToArray<float>(), Ops.Linear(x, w16).ToArray<float>());
    }

    [Fact]
    public void No_grad_scope_records_nothing()
    {
        var w = Ops.RandomNormal(new Shape(3, 3), 1, Cpu).RequireGrad();
        using (GradMode.NoGrad())
        {
            var y = Ops.Linear(Ops.RandomNormal(new Shape(2, 3), 2, Cpu), w);
            Assert.False(y.RequiresGrad);
            Assert.Null(y.Node);
        }
        Assert.True(GradMode.IsEnabled);
    }

    [Fact]
    public void Views_share_storage_and_copy_only_when_needed()
    {
        var x = Ops.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), new Shape(2, 3, 4), Cpu);
        var t = Ops.Transpose(x, 1, 2);
        Assert.Same(x.Storage, t.Storage);
        Assert.False(t.IsContiguous);
        var n = Ops.Narrow(x, 2, 1, 2);
        Assert.Same(x.Storage, n.Storage);
        Assert.Equal(new float[] { 1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22 }, n.ToArray<float>());
        var r = Ops.Reshape(x, 6, -1);
        Assert.Same(x.Storage, r.Storage);
        Assert.Equal(new Shape(6, 4), r.Shape);
        Assert.Equal(new float[] { 0, 4, 8, 1, 5, 9 }, Ops.Narrow(Ops.Reshape(t, 2, 12), 0, 0, 1).ToArray<float>()[..6]);
    }

    [Fact]
    public void Random_draws_depend_only_on_seed_and_counter()
    {
        var all = Ops.RandomNormal(new Shape(100), 42, Cpu).ToArray<float>();
        var tail = Ops.RandomNormal(new Shape(60), 42, Cpu, offset: 40).ToArray<float>();
        Assert.Equal(all[40..], tail);
        Assert.NotEqual(all, Ops.RandomNormal(new Shape(100), 43, Cpu).ToArray<float>());
        Assert.InRange(all.Average(), -0.3, 0.3);
        Assert.InRange(Math.Sqrt(all.Select(v => v * v).Average()), 0.8, 1.2);
    }

    [Fact]
    public void Dropout_keeps_about_one_minus_p_and_rescales()
    {
        var x = Ops.Full(new Shape(10000), 1f, Cpu);
        var y = Ops.Dropout(x, 0.25f, seed: 7).ToArray<float>();
        double kept = y.Count(v => v != 0) / 10000.0;
        Assert.InRange(kept, 0.73, 0.77);
        Assert.All(y.Where(v => v != 0), v => Assert.Equal(1f / 0.75f, v, 6));
    }

    [Fact]
    public void Attention_equals_the_unblocked_formula_on_a_long_sequence()
    {
        // 150 positions: several query and key blocks, causal + GQA, against softmax(q·kᵀ·scale + mask)·v.
        int t = 150, d = 8;
        var q = Ops.RandomNormal(new Shape(1, 2, t, d), 1, Cpu);
        var k = Ops.RandomNormal(new Shape(1, 1, t, d), 2, Cpu);
        var v = Ops.RandomNormal(new Shape(1, 1, t, d), 3, Cpu);
        var o = Ops.Attention(q, k, v, causal: true).ToArray<float>();
        var qa = q.ToArray<float>(); var ka = k.ToArray<float>(); var va = v.ToArray<float>();
        double scale = 1 / Math.Sqrt(d);
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < t; i++)
            {
                var s = new double[i + 1];
                for (int j = 0; j <= i; j++)
                    for (int c = 0; c < d; c++) s[j] += qa[(h * t + i) * d + c] * ka[j * d + c] * scale;
                double max = s.Max(), sum = s.Sum(z => Math.Exp(z - max));
                for (int c = 0; c < d; c++)
                {
                    double expect = 0;
                    for (int j = 0; j <= i; j++) expect += Math.Exp(s[j] - max) / sum * va[j * d + c];
                    Assert.True(Math.Abs(expect - o[(h * t + i) * d + c]) < 1e-5, $"head {h} row {i} col {c}: {expect} vs {o[(h * t + i) * d + c]}");
                }
            }
    }
}

public class OptimizerAndCheckTests
{
    static Device Cpu => CpuBackend.Device;

    [Fact]
    public void AdamW_bias_correction_counts_each_parameters_own_updates()
    {
        // p2 first gets a gradient at optimiser step 3: its update must equal a first step (torch's per-parameter step).
        var p1 = Ops.Full(new Shape(3), 1f, Cpu).RequireGrad();
        var p2 = Ops.Full(new Shape(3), 1f, Cpu).RequireGrad();
        var fresh = Ops.Full(new Shape(3), 1f, Cpu).RequireGrad();
        var opt = new Optim.AdamW([p1, p2], lr: 0.1f);
        for (int s = 0; s < 2; s++) { p1.Grad = Ops.Full(new Shape(3), 0.5f, Cpu); opt.StepOnce(); }
        p2.Grad = Ops.Full(new Shape(3), 0.5f, Cpu);
        opt.StepOnce();
        var single = new Optim.AdamW([fresh], lr: 0.1f);
        fresh.Grad = Ops.Full(new Shape(3), 0.5f, Cpu);
        single.StepOnce();
        Assert.Equal(fresh.ToArray<float>(), p2.ToArray<float>());
        Assert.Equal(1, opt.ParameterStep(1));
        Assert.Equal(3, opt.ParameterStep(0));
    }

    [Fact]
    public void Token_logprobs_require_labels_shaped_like_the_logits_rows()
    {
        var logits = Ops.Zeros(new Shape(2, 3, 5), DType.F32, Cpu);
        var labels = Ops.FromArray(new long[6], new Shape(3, 2), Cpu);
        var e = Assert.Throws<ShapeException>(() => Ops.TokenLogProbs(logits, labels));
        Assert.Contains("(3,2)", e.Message);
        Assert.Contains("(2,3,5)", e.Message);
    }
}
