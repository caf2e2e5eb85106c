using VlmTune.Tensors.Cpu;

namespace VlmTune.Tensors.Tests.Engine;

/// <summary>
/// The engine's dtype rules (Ops): which dtype each op returns for bf16/f32 inputs, and the gradients of a bf16 forward
/// (activations' gradients in their dtype, f32 leaves' gradients in f32) against the same graph computed in f32.
/// </summary>
public class MixedPrecisionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static Device Cpu => CpuBackend.Device;
    static Tensor R(ulong seed, params int[] shape) => Ops.RandomNormal(new Shape(shape), seed, Cpu);
    static Tensor Bf(Tensor t) => Ops.ToDType(t, DType.BF16);

    [Fact]
    public void Output_dtypes_follow_the_rules()
    {
        var a = Bf(R(1, 2, 3, 8));
        var f = R(2, 2, 3, 8);
        var w = R(3, 5, 8);
        // elementwise: unary keeps the dtype, binary promotes to f32 when either side is f32
        Assert.Equal(DType.BF16, Ops.GeluTanh(a).DType);
        Assert.Equal(DType.BF16, Ops.Scale(a, 2f).DType);
        Assert.Equal(DType.BF16, Ops.Add(a, a).DType);
        Assert.Equal(DType.F32, Ops.Add(a, f).DType);
        Assert.Equal(DType.F32, Ops.Mul(f, a).DType);
        Assert.Equal(DType.BF16, Ops.SwiGlu(a, a).DType);
        // matmul family: a's (x's) dtype unless asked
        Assert.Equal(DType.BF16, Ops.Linear(a, w).DType);
        Assert.Equal(DType.BF16, Ops.Linear(a, Bf(w), R(4, 5)).DType);
        Assert.Equal(DType.F32, Ops.Linear(a, w, dtype: DType.F32).DType);
        Assert.Equal(DType.BF16, Ops.Linear(f, w, dtype: DType.BF16).DType);
        Assert.Equal(DType.F32, Ops.Linear(f, Bf(w)).DType);
        Assert.Equal(DType.BF16, Ops.MatMul(a, Ops.Transpose(w, 0, 1)).DType);
        // norms, softmax, attention, rope, reductions, dropout: the input's dtype
        Assert.Equal(DType.BF16, Ops.RmsNorm(a, Ops.AddScalar(R(5, 8), 1f), 1e-6f).DType);
        Assert.Equal(DType.BF16, Ops.LayerNorm(a, R(5, 8), R(6, 8), 1e-6f).DType);
        Assert.Equal(DType.BF16, Ops.Softmax(a).DType);
        Assert.Equal(DType.BF16, Ops.LogSoftmax(a).DType);
        Assert.Equal(DType.BF16, Ops.Sum(a, 1).DType);
        Assert.Equal(DType.BF16, Ops.MaxLastAxis(a).DType);
        Assert.Equal(DType.BF16, Ops.Dropout(a, 0.5f, 1).DType);
        var q = Bf(R(7, 1, 2, 3, 4));
        Assert.Equal(DType.BF16, Ops.Attention(q, q, q, causal: true).DType);
        Assert.Equal(DType.BF16, Ops.Rope(q, Ops.FromArray(new long[] { 0, 1, 2 }, new Shape(3), Cpu), 10000f).DType);
        // embedding: f32 unless asked; concat promotes
        var ids = Ops.FromArray(new long[] { 1, 0, 4 }, new Shape(3), Cpu);
        Assert.Equal(DType.F32, Ops.Embedding(ids, Bf(w)).DType);
        Assert.Equal(DType.BF16, Ops.Embedding(ids, w, DType.BF16).DType);
        Assert.Equal(DType.BF16, Ops.Concat([a, a], 0).DType);
        Assert.Equal(DType.F32, Ops.Concat([a, f], 1).DType);
        // losses and log-probs: f32
        var labels = Ops.FromArray(new long[] { 1, -100, 7, 0, 2, 3 }, new Shape(2, 3), Cpu);
        Assert.Equal(DType.F32, Ops.TokenLogProbs(a, labels).DType);
        Assert.Equal(DType.F32, Ops.CrossEntropy(a, labels).DType);
    }

    [Fact]
    public void Non_float_inputs_are_refused_with_their_dtype()
    {
        var ids = Ops.FromArray(new long[] { 1, 2 }, new Shape(2), Cpu);
        var e = Assert.Throws<ShapeException>(() => Ops.Add(ids, ids));
        Assert.Contains("f32 or bf16, got i64", e.Message);
        var h = Ops.ToDType(R(1, 2), DType.F16);
        e = Assert.Throws<ShapeException>(() => Ops.Exp(h));
        Assert.Contains("f16", e.Message);
    }

    [Fact]
    public void Mixed_binary_ops_compute_on_the_widened_values()
    {
        var a = Bf(R(1, 4, 6));
        var b = R(2, 6);
        var y = Ops.Sub(a, b);
        var expect = Ops.Sub(Ops.ToDType(a, DType.F32), b);
        Assert.Equal(expect.ToArray<float>(), y.ToArray<float>());
        var y16 = Ops.Add(a, Bf(b));
        Assert.Equal(Bf(Ops.Add(Ops.ToDType(a, DType.F32), Ops.ToDType(Bf(b), DType.F32))).ToArray<ushort>(), y16.ToArray<ushort>());
    }

    /// <summary>
    /// A LoRA-shaped step: bf16 activations through a frozen bf16 linear, an f32 LoRA branch (A, B f32 leaves, its
    /// output cast to bf16 before the add), RMSNorm, GELU, bf16 logits, f32 cross-entropy. The leaves' gradients are f32
    /// and match the f32-compute gradients within bf16 precision.
    /// </summary>
    [Fact]
    public void A_bf16_forward_gives_f32_leaf_gradients_close_to_the_f32_ones()
    {
        const int n = 12, d = 16, r = 4, v = 10;
        var x0 = R(1, n, d);
        var w = Bf(Ops.Scale(R(2, d, d), 0.3f));
        var head = Bf(Ops.Scale(R(3, v, d), 0.3f));
        var norm = Ops.AddScalar(Ops.Scale(R(4, d), 0.1f), 1f);
        var labels = Ops.FromArray(Enumerable.Range(0, n).Select(i => (long)(i % 3 == 0 ? -100 : i % v)).ToArray(), new Shape(n), Cpu);
        var a0 = Ops.Scale(R(5, r, d), 0.3f).ToArray<float>();
        var b0 = Ops.Scale(R(6, d, r), 0.3f).ToArray<float>();

        (float[] Ga, float[] Gb, float[] Gx, float Loss, DType[] Types) Run(DType compute)
        {
            var a = Ops.FromArray(a0, new Shape(r, d), Cpu).RequireGrad();
            var b = Ops.FromArray(b0, new Shape(d, r), Cpu).RequireGrad();
            var xLeaf = Ops.FromArray(x0.ToArray<float>(), x0.Shape, Cpu).RequireGrad();
            var x = Ops.ToDType(xLeaf, compute);
            var baseOut = Ops.Linear(x, w);
            var lora = Ops.Scale(Ops.Linear(Ops.Linear(x, a, dtype: DType.F32), b), 2f);
            var h = Ops.Add(baseOut, Ops.ToDType(lora, baseOut.DType));
            var logits = Ops.Linear(Ops.GeluTanh(Ops.RmsNorm(h, norm, 1e-6f)), head);
            var loss = Ops.CrossEntropy(logits, labels);
            loss.Backward();
            return (a.Grad!.ToArray<float>(), b.Grad!.ToArray<float>(), xLeaf.Grad!.ToArray<float>(), loss.Item(),
                [h.DType, logits.DType, loss.DType, a.Grad.DType, b.Grad.DType, xLeaf.Grad.DType]);
        }

        var full = Run(DType.F32);
        var half = Run(DType.BF16);
        Assert.Equal(new[] { DType.F32, DType.F32, DType.F32, DType.F32, DType.F32, DType.F32 }, full.Types);
        Assert.Equal(new[] { DType.BF16, DType.BF16, DType.F32, DType.F32, DType.F32, DType.F32 }, half.Types);
        output.WriteLine($"loss f32 {full.Loss:G6}, bf16 {half.Loss:G6}");
        Assert.True(Math.Abs(full.Loss - half.Loss) < 2e-2 * Math.Abs(full.Loss), $"loss {half.Loss} vs {full.Loss}");
        // bf16 keeps 8 significant bits (relative rounding error ≤ 2^-9 ≈ 0.2%); the dozen roundings along this chain
        // give ≈ 0.3–0.5% of the gradient's largest element (measured); 2% leaves a 4× margin.
        foreach (var (name, e, g) in new[] { ("dA", full.Ga, half.Ga), ("dB", full.Gb, half.Gb), ("dx", full.Gx, half.Gx) })
        {
            double scale = e.Max(Math.Abs), worst = 0;
            for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(e[i] - g[i]));
            output.WriteLine($"{name}: max |Δ| / max |g| = {worst / scale:G3}");
            Assert.True(worst <= 0.02 * scale, $"{name}: max |Δ| {worst:G3} vs max |g| {scale:G3}");
        }
    }

    [Fact]
    public void Gradients_of_bf16_activations_that_meet_are_summed_in_bf16_and_reach_an_f32_leaf()
    {
        var leaf = R(1, 3, 5).RequireGrad();
        var x = Bf(leaf);
        var y = Ops.Add(Ops.Mul(x, x), Ops.Exp(x));          // x used three times
        Ops.Sum(Ops.ToDType(y, DType.F32)).Backward();
        Assert.Equal(DType.F32, leaf.Grad!.DType);
        var xv = Ops.ToDType(x, DType.F32).ToArray<float>();
        var g = leaf.Grad.ToArray<float>();
        for (int i = 0; i < g.Length; i++)
        {
            double expect = 2 * xv[i] + Math.Exp(xv[i]);
            Assert.True(Math.Abs(g[i] - expect) <= 2e-2 * Math.Abs(expect) + 1e-2, $"element {i}: {g[i]} vs {expect}");
        }
    }
}
