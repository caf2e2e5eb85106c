using VlmTune.Nn;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;

namespace VlmTune.Models.SmolVlm.Tests.Adapters;

/// <summary>LoraAdapter on a standalone Linear: no-op at init, disable, scaling, init, hand-computed LoRA/DoRA outputs.</summary>
public class LoraAdapterTests
{
    const int In = 6, Out = 5, Rows = 3;

    static Linear MakeLinear(bool bias = true, ulong seed = 11) =>
        new("blk.q_proj", Ops.RandomNormal(new Shape(Out, In), seed, AdapterTestSupport.Cpu, 0f, 0.5f),
            bias ? Ops.RandomNormal(new Shape(Out), seed + 1, AdapterTestSupport.Cpu, 0f, 0.5f) : null);

    static Tensor Input(ulong seed = 3) => Ops.RandomNormal(new Shape(Rows, In), seed, AdapterTestSupport.Cpu);

    static float[] RandomB(LoraAdapter a, ulong seed) => Ops.RandomNormal(a.B.Shape, seed, AdapterTestSupport.Cpu, 0f, 0.3f).ToArray<float>();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fresh_adapter_with_B_zero_returns_the_base_output_exactly(bool dora)
    {
        var layer = MakeLinear();
        var x = Input();
        var baseY = layer.Forward(x).ToFloatArray();
        layer.Adapter = new LoraAdapter(layer.Name, layer, new LoraOptions { Rank = 4, Alpha = 8, UseDora = dora }, 7);
        Assert.Equal(baseY, layer.Forward(x).ToFloatArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Disabled_adapter_returns_the_base_output_exactly(bool dora)
    {
        var layer = MakeLinear();
        var x = Input();
        var baseY = layer.Forward(x).ToFloatArray();
        var a = new LoraAdapter(layer.Name, layer, new LoraOptions { Rank = 4, Alpha = 8, UseDora = dora }, 7);
        a.Load(a.A.ToFloatArray(), RandomB(a, 9), a.Magnitude?.ToFloatArray());
        layer.Adapter = a;
        Assert.NotEqual(baseY, layer.Forward(x).ToFloatArray());
        a.Enabled = false;
        Assert.Equal(baseY, layer.Forward(x).ToFloatArray());
    }

    [Theory]
    [InlineData(4, 8.0, false, 2.0)]
    [InlineData(4, 8.0, true, 4.0)]
    [InlineData(16, 32.0, false, 2.0)]
    [InlineData(16, 32.0, true, 8.0)]
    [InlineData(8, 8.0, false, 1.0)]
    public void Scaling_is_alpha_over_r_or_alpha_over_sqrt_r(int r, double alpha, bool rs, double expected)
    {
        var o = new LoraOptions { Rank = r, Alpha = alpha, UseRsLora = rs };
        Assert.Equal(expected, o.Scaling, 12);
        var layer = MakeLinear();
        Assert.Equal((float)expected, new LoraAdapter("p", layer, o, 1).Scaling);
    }

    [Fact]
    public void Kaiming_init_is_uniform_within_one_over_sqrt_fan_in_and_B_is_zero()
    {
        Assert.Equal(1.0 / Math.Sqrt(576), LoraAdapter.KaimingBound(576), 6);
        var layer = new Linear("l", Ops.Zeros(new Shape(8, 400), DType.F32, AdapterTestSupport.Cpu), null);
        var a = new LoraAdapter("l", layer, new LoraOptions { Rank = 8 }, 3);
        var values = a.A.ToFloatArray();
        float bound = 1f / MathF.Sqrt(400);
        Assert.All(values, v => Assert.InRange(v, -bound, bound));
        Assert.True(values.Max() > 0.9f * bound && values.Min() < -0.9f * bound, "A should fill the interval");
        Assert.All(a.B.ToFloatArray(), v => Assert.Equal(0f, v));
        Assert.True(a.A.RequiresGrad && a.B.RequiresGrad);
        Assert.Equal(DType.F32, a.A.DType);
    }

    [Fact]
    public void Gaussian_init_has_std_one_over_r()
    {
        var layer = new Linear("l", Ops.Zeros(new Shape(8, 1000), DType.F32, AdapterTestSupport.Cpu), null);
        var values = new LoraAdapter("l", layer, new LoraOptions { Rank = 4, Init = LoraInit.Gaussian }, 3).A.ToFloatArray();
        double mean = values.Average(), std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(std, 0.25 * 0.95, 0.25 * 1.05);
        Assert.InRange(mean, -0.02, 0.02);
    }

    [Fact]
    public void Init_depends_on_seed_and_path_only()
    {
        var layer = MakeLinear();
        var o = new LoraOptions { Rank = 4 };
        var first = new LoraAdapter("model.text_model.layers.0.self_attn.q_proj", layer, o, 42).A.ToFloatArray();
        _ = new LoraAdapter("model.text_model.layers.1.self_attn.q_proj", layer, o, 42);
        var again = new LoraAdapter("model.text_model.layers.0.self_attn.q_proj", layer, o, 42).A.ToFloatArray();
        var other = new LoraAdapter("model.text_model.layers.1.self_attn.q_proj", layer, o, 42).A.ToFloatArray();
        var otherSeed = new LoraAdapter("model.text_model.layers.0.self_attn.q_proj", layer, o, 43).A.ToFloatArray();
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.NotEqual(first, otherSeed);
    }

    [Fact]
    public void Lora_forward_matches_a_hand_computation()
    {
        var layer = MakeLinear();
        var a = new LoraAdapter(layer.Name, layer, new LoraOptions { Rank = 2, Alpha = 6 }, 5);   // s = 3
        a.Load(a.A.ToFloatArray(), RandomB(a, 8), null);
        layer.Adapter = a;
        var x = Input();
        var y = layer.Forward(x).ToFloatArray();
        float[] w = layer.Weight.ToFloatArray(), b = layer.Bias!.ToFloatArray(), av = a.A.ToFloatArray(), bv = a.B.ToFloatArray(), xv = x.ToFloatArray();
        for (int n = 0; n < Rows; n++)
            for (int o = 0; o < Out; o++)
            {
                double expect = b[o];
                for (int i = 0; i < In; i++) expect += xv[n * In + i] * w[o * In + i];
                for (int k = 0; k < 2; k++)
                {
                    double ax = 0;
                    for (int i = 0; i < In; i++) ax += av[k * In + i] * xv[n * In + i];
                    expect += 3.0 * bv[o * 2 + k] * ax;
                }
                Assert.Equal(expect, y[n * Out + o], 4);
            }
    }

    /// <summary>(m / ‖W + sBA‖_row) ∘ (W + sBA)·x + bias: PEFT's DoRA with dropout off (eval or p = 0).</summary>
    static double[] DoraReference(float[] w, float[]? bias, float[] av, float[] bv, float[] m, float s, int r, float[] xv)
    {
        var merged = new double[Out * In];
        for (int o = 0; o < Out; o++)
            for (int i = 0; i < In; i++)
            {
                double d = 0;
                for (int k = 0; k < r; k++) d += bv[o * r + k] * av[k * In + i];
                merged[o * In + i] = w[o * In + i] + s * d;
            }
        var y = new double[Rows * Out];
        for (int o = 0; o < Out; o++)
        {
            double norm = Math.Sqrt(Enumerable.Range(0, In).Sum(i => merged[o * In + i] * merged[o * In + i]));
            for (int n = 0; n < Rows; n++)
            {
                double dot = 0;
                for (int i = 0; i < In; i++) dot += merged[o * In + i] * xv[n * In + i];
                y[n * Out + o] = m[o] / norm * dot + (bias?[o] ?? 0);
            }
        }
        return y;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Dora_forward_matches_the_merged_weight_formula(bool bias)
    {
        var layer = MakeLinear(bias);
        var a = new LoraAdapter(layer.Name, layer, new LoraOptions { Rank = 3, Alpha = 6, UseDora = true }, 5);
        var m0 = a.Magnitude!.ToFloatArray();
        var w = layer.Weight.ToFloatArray();
        for (int o = 0; o < Out; o++)
            Assert.Equal(Math.Sqrt(Enumerable.Range(0, In).Sum(i => (double)w[o * In + i] * w[o * In + i])), m0[o], 5);
        var m = m0.Select((v, j) => v * (1.2f - 0.1f * j)).ToArray();
        a.Load(a.A.ToFloatArray(), RandomB(a, 8), m);
        layer.Adapter = a;
        var x = Input();
        var y = layer.Forward(x).ToFloatArray();
        var expect = DoraReference(w, layer.Bias?.ToFloatArray(), a.A.ToFloatArray(), a.B.ToFloatArray(), m, a.Scaling, 3, x.ToFloatArray());
        for (int i = 0; i < y.Length; i++) Assert.Equal(expect[i], y[i], 4);
    }

    [Fact]
    public void Dora_with_active_dropout_follows_peft_training_branch()
    {
        // PEFT: x' = dropout(x); y = base(x) + (g − 1)·(x'·Wᵀ) + g·s·B(A(x')), g = m/‖W + sBA‖ (bias only in base(x)).
        var layer = MakeLinear();
        var ctx = new DropoutContext(77) { Step = 3 };
        var a = new LoraAdapter(layer.Name, layer, new LoraOptions { Rank = 2, Alpha = 4, UseDora = true, Dropout = 0.5f }, 5, ctx);
        var m = a.Magnitude!.ToFloatArray().Select((v, j) => v * (0.8f + 0.1f * j)).ToArray();
        a.Load(a.A.ToFloatArray(), RandomB(a, 8), m);
        var x = Input();
        var baseY = Ops.Linear(x, layer.Weight, layer.Bias);
        var y = a.Forward(layer, x, baseY).ToFloatArray();

        var (seed, offset) = ctx.StreamFor(LoraSeeds.HashPath(layer.Name));
        var xd = Ops.Dropout(x, 0.5f, seed, offset);
        var g = Ops.Div(Ops.FromArray(m, new Shape(Out), AdapterTestSupport.Cpu), a.RowNorm(layer));
        var lora = Ops.Scale(Ops.Linear(Ops.Linear(xd, a.A), a.B), a.Scaling);
        var expect = Ops.Add(baseY, Ops.Add(Ops.Mul(Ops.AddScalar(g, -1f), Ops.Linear(xd, layer.Weight)), Ops.Mul(g, lora))).ToFloatArray();
        Assert.Equal(expect, y);
        Assert.Contains(xd.ToFloatArray(), v => v == 0f);

        ctx.Training = false;                                   // eval: no dropout, the merged-weight formula
        var eval = a.Forward(layer, x, baseY).ToFloatArray();
        var reference = DoraReference(layer.Weight.ToFloatArray(), layer.Bias!.ToFloatArray(), a.A.ToFloatArray(), a.B.ToFloatArray(), m, a.Scaling, 2, x.ToFloatArray());
        for (int i = 0; i < eval.Length; i++) Assert.Equal(reference[i], eval[i], 4);
    }

    [Fact]
    public void Dropout_mask_depends_on_step_and_is_off_in_eval()
    {
        var layer = MakeLinear();
        var ctx = new DropoutContext(5);
        var a = new LoraAdapter(layer.Name, layer, new LoraOptions { Rank = 2, Dropout = 0.5f }, 5, ctx);
        a.Load(a.A.ToFloatArray(), RandomB(a, 8), null);
        var x = Input();
        var baseY = Ops.Linear(x, layer.Weight, layer.Bias);
        var s0 = a.Forward(layer, x, baseY).ToFloatArray();
        Assert.Equal(s0, a.Forward(layer, x, baseY).ToFloatArray());       // same step → same mask (checkpoint-safe)
        ctx.Advance();
        Assert.NotEqual(s0, a.Forward(layer, x, baseY).ToFloatArray());
        ctx.Training = false;
        var evalY = a.Forward(layer, x, baseY).ToFloatArray();
        a.Dropout = null;
        Assert.Equal(a.Forward(layer, x, baseY).ToFloatArray(), evalY);
    }

    [Fact]
    public void Dora_norm_is_detached_so_only_m_A_B_get_gradients()
    {
        var layer = MakeLinear();
        var a = new LoraAdapter(layer.Name, layer, new LoraOptions { Rank = 2, UseDora = true }, 5);
        a.Load(a.A.ToFloatArray(), RandomB(a, 8), a.Magnitude!.ToFloatArray());
        layer.Adapter = a;
        Ops.Sum(layer.Forward(Input())).Backward();
        Assert.NotNull(a.A.Grad);
        Assert.NotNull(a.B.Grad);
        Assert.NotNull(a.Magnitude!.Grad);
        Assert.Null(layer.Weight.Grad);
        Assert.False(GradMode.IsEnabled == false);
    }
}
