using VlmTune.Tensors.Cpu;
using VlmTune.Tensors.Autograd;

using static VlmTune.Tensors.Tests.Support.GradCheck;

namespace VlmTune.Tensors.Tests.OpChecks;

/// <summary>Finite-difference checks of every differentiable op's backward (central differences, f32).</summary>
public class GradientCheckTests
{
    static Tensor Ids(long[] v, params int[] shape) => Ops.FromArray(v, shape, CpuBackend.Device);

    [Fact] public void Linear() => Check(x => Ops.Linear(x[0], x[1], x[2]), [Rand(1, 2, 3, 5), Rand(2, 4, 5), Rand(3, 4)]);
    [Fact] public void Linear_without_bias() => Check(x => Ops.Linear(x[0], x[1]), [Rand(1, 6, 5), Rand(2, 4, 5)]);
    [Fact] public void MatMul_batched() => Check(x => Ops.MatMul(x[0], x[1]), [Rand(1, 2, 3, 4), Rand(2, 2, 4, 5)]);
    [Fact] public void MatMul_shared_b() => Check(x => Ops.MatMul(x[0], x[1]), [Rand(1, 2, 3, 4), Rand(2, 4, 5)]);
    [Fact] public void Add_broadcast() => Check(x => Ops.Add(x[0], x[1]), [Rand(1, 2, 3, 4), Rand(2, 3, 1)]);
    [Fact] public void Sub_broadcast() => Check(x => Ops.Sub(x[0], x[1]), [Rand(1, 2, 1, 4), Rand(2, 3, 1)]);
    [Fact] public void Mul_broadcast() => Check(x => Ops.Mul(x[0], x[1]), [Rand(1, 2, 3, 4), Rand(2, 4)]);
    [Fact] public void Div() => Check(x => Ops.Div(x[0], Ops.AddScalar(Ops.Square(x[1]), 1f)), [Rand(1, 3, 4), Rand(2, 3, 4)]);
    [Fact] public void Scale() => Check(x => Ops.Scale(x[0], -0.7f), [Rand(1, 3, 4)]);
    [Fact] public void Exp_log_sqrt() => Check(x => Ops.Log(Ops.Sqrt(Ops.AddScalar(Ops.Exp(x[0]), 0.5f))), [Rand(1, 3, 4)]);
    [Fact] public void Rsqrt_tanh_sigmoid() => Check(x => Ops.Mul(Ops.Tanh(x[0]), Ops.Rsqrt(Ops.AddScalar(Ops.Sigmoid(x[0]), 1f))), [Rand(1, 3, 4)]);
    [Fact] public void GeluTanh() => Check(x => Ops.GeluTanh(x[0]), [Rand(1, 4, 7)]);
    [Fact] public void Silu() => Check(x => Ops.Silu(x[0]), [Rand(1, 4, 7)]);
    [Fact] public void SwiGlu() => Check(x => Ops.SwiGlu(x[0], x[1]), [Rand(1, 4, 7), Rand(2, 4, 7)]);
    [Fact] public void Embedding() => Check(x => Ops.Embedding(Ids([1, 3, 1, 0, 4], 5), x[0]), [Rand(1, 6, 3)]);
    [Fact] public void Reshape_transpose_permute() => Check(x => Ops.Permute(Ops.Transpose(Ops.Reshape(x[0], 2, 6, 2), 0, 1), 2, 0, 1), [Rand(1, 4, 6)]);
    [Fact] public void Narrow() => Check(x => Ops.Narrow(x[0], 1, 1, 3), [Rand(1, 4, 6)]);
    [Fact] public void Concat() => Check(x => Ops.Concat([x[0], x[1]], 1), [Rand(1, 2, 3), Rand(2, 2, 5)]);
    [Fact] public void Gather() => Check(x => Ops.Gather(x[0], 1, Ids([0, 2, 2, 4, 1, 1], 3, 2)), [Rand(1, 3, 5)]);
    [Fact] public void Sum_and_mean() => Check(x => Ops.Add(Ops.Sum(x[0], 1, keepDim: true), Ops.Mean(x[0], 1, keepDim: true)), [Rand(1, 3, 5, 2)]);
    [Fact] public void LayerNorm() => Check(x => Ops.LayerNorm(x[0], x[1], x[2], 1e-6f), [Rand(1, 3, 8), Rand(2, 8), Rand(3, 8)]);
    [Fact] public void RmsNorm() => Check(x => Ops.RmsNorm(x[0], x[1], 1e-5f), [Rand(1, 3, 8), Rand(2, 8)]);
    [Fact] public void Softmax() => Check(x => Ops.Softmax(x[0]), [Rand(1, 3, 7)]);
    [Fact] public void LogSoftmax() => Check(x => Ops.LogSoftmax(x[0]), [Rand(1, 3, 7)]);

    [Theory]
    [InlineData(true, 0, false)]
    [InlineData(false, 0, false)]
    [InlineData(true, 0, true)]
    [InlineData(true, 4, false)]
    public void Attention(bool causal, int qOffset, bool padded)
    {
        int t = qOffset > 0 ? 2 : 6;
        // Padding: batch row 1 masks keys 1 and 4 (a non-prefix pattern, as a partial vision patch mask gives).
        var mask = padded ? Ops.FromArray(new[] { 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1 }, new Shape(2, 6), CpuBackend.Device) : null;
        Check(x => Ops.Attention(x[0], x[1], x[2], causal, null, qOffset, mask),
            [Rand(1, 2, 4, t, 8), Rand(2, 2, 2, 6, 8), Rand(3, 2, 2, 6, 8)], maxProbes: 48);
    }

    [Fact]
    public void Attention_longer_than_one_block()
    {
        // 70 queries and keys: two query blocks and two key blocks of the blocked kernel.
        Check(x => Ops.Attention(x[0], x[1], x[2], causal: true), [Rand(1, 1, 2, 70, 4), Rand(2, 1, 1, 70, 4), Rand(3, 1, 1, 70, 4)], maxProbes: 40);
    }

    [Fact] public void Rope() => Check(x => Ops.Rope(x[0], Ids([3, 4, 5, 9], 4), 10000f), [Rand(1, 2, 3, 4, 8)]);
    [Fact] public void TokenLogProbs() => Check(x => Ops.TokenLogProbs(x[0], Ids([1, -100, 4, 0, 2, 2], 2, 3)), [Rand(1, 2, 3, 6)]);
    [Fact] public void CrossEntropy_mean() => Check(x => Ops.CrossEntropy(x[0], Ids([1, -100, 4, 0], 4)), [Rand(1, 4, 6)]);
    [Fact] public void CrossEntropy_sum() => Check(x => Ops.CrossEntropy(x[0], Ids([1, -100, 4, 0], 4), mean: false), [Rand(1, 4, 6)]);
    [Fact] public void Dropout() => Check(x => Ops.Dropout(x[0], 0.3f, seed: 9), [Rand(1, 5, 8)]);
    [Fact] public void ConvPatchify() => Check(x => Ops.ConvPatchify(x[0], x[1], x[2]), [Rand(1, 2, 3, 4, 4), Rand(2, 5, 3, 2, 2), Rand(3, 5)]);
    [Fact] public void PixelShuffle() => Check(x => Ops.PixelShuffle(x[0], 2), [Rand(1, 2, 16, 3)]);
    [Fact]
    public void ToDType_passes_the_gradient_straight_through()
    {
        // A rounding conversion is a staircase (no useful finite difference): its gradient is the identity. The
        // gradient of the bf16 intermediate is bf16 (an activation's gradient has its dtype, as in PyTorch), so what
        // reaches the f32 leaf is w rounded to bf16; straight from f32 to the leaf it is w exactly.
        var x = Rand(1, 3, 4).RequireGrad();
        var w = Rand(2, 3, 4);
        Ops.Sum(Ops.Mul(Ops.ToDType(Ops.ToDType(x, DType.BF16), DType.F32), w)).Backward();
        Assert.Equal(Ops.ToDType(Ops.ToDType(w, DType.BF16), DType.F32).ToArray<float>(), x.Grad!.ToArray<float>());
        Assert.Equal(DType.F32, x.Grad!.DType);
        var x2 = Rand(1, 3, 4).RequireGrad();
        Ops.Sum(Ops.Mul(Ops.ToDType(x2, DType.BF16), w)).Backward();   // bf16 · f32 → f32; the bf16 input's gradient is bf16
        Assert.Equal(Ops.ToDType(Ops.ToDType(w, DType.BF16), DType.F32).ToArray<float>(), x2.Grad!.ToArray<float>());
    }

    [Fact]
    public void Checkpointed_block_gives_the_same_gradients()
    {
        var w = Rand(5, 6, 6).RequireGrad();
        var x0 = Rand(6, 3, 6);
        Tensor Block(Tensor[] a) => Ops.GeluTanh(Ops.Linear(a[0], w));

        var x1 = Ops.FromArray(x0.ToArray<float>(), x0.Shape, CpuBackend.Device).RequireGrad();
        Ops.Sum(Ops.Square(Block([x1]))).Backward();
        var gw = w.Grad!.ToArray<float>();
        var gx = x1.Grad!.ToArray<float>();

        w.Grad = null;
        var x2 = Ops.FromArray(x0.ToArray<float>(), x0.Shape, CpuBackend.Device).RequireGrad();
        Ops.Sum(Ops.Square(Checkpoint.Run(Block, x2))).Backward();
        Assert.Equal(gw, w.Grad!.ToArray<float>());
        Assert.Equal(gx, x2.Grad!.ToArray<float>());
    }

    [Fact]
    public void Checkpointed_block_with_nothing_trainable_is_left_out_of_the_graph()
    {
        // A frozen block (frozen weight, input without gradient) under grad mode: the output needs no gradient, so
        // there is no node to recompute or run backward through (a frozen vision tower under text-only LoRA).
        var frozen = Rand(5, 6, 6);
        var x = Rand(6, 3, 6);
        int runs = 0;
        Tensor Frozen(Tensor[] a) { runs++; return Ops.GeluTanh(Ops.Linear(a[0], frozen)); }
        var y = Checkpoint.Run(Frozen, x);
        Assert.False(y.RequiresGrad);
        Assert.Null(y.Node);
        Assert.Equal(Frozen([x]).ToArray<float>(), y.ToArray<float>());

        // Downstream trainable work still trains, and the frozen block ran once per forward, never in backward.
        var w = Rand(7, 6, 6).RequireGrad();
        runs = 0;
        Ops.Sum(Ops.Square(Ops.Linear(Checkpoint.Run(Frozen, x), w))).Backward();
        Assert.Equal(1, runs);
        Assert.NotNull(w.Grad);

        // A trainable parameter captured two blocks deep still marks the output (probes nest).
        var inner = Rand(8, 6, 6).RequireGrad();
        var z = Checkpoint.Run(a => Checkpoint.Run(b => Ops.Linear(Ops.Linear(b[0], frozen), inner), a[0]), x);
        Assert.True(z.RequiresGrad);
        Ops.Sum(z).Backward();
        Assert.NotNull(inner.Grad);
    }
}
