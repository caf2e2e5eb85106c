using VlmTune.Tensors.Cpu;
using VlmTune.Tensors.Quantization;

namespace VlmTune.Tensors.Tests.Kernels;

/// <summary>
/// Every CPU backend method with bf16 tensors (alone or mixed with f32) against the f32 path on the same values:
/// inputs are drawn representable in bf16, the f32 path gets their exact f32 widening, and a bf16 output must be the
/// f32 result rounded once to nearest even — bit for bit, since the CPU backend widens exactly, runs the same f32
/// kernel and rounds on store. f32 outputs (statistics, log-probs, accumulators) must equal the f32 path exactly.
/// </summary>
public class CpuBf16Tests
{
    static Device Cpu => CpuBackend.Device;
    static IBackend B => CpuBackend.Device.Backend;

    /// <summary>Random values representable in bf16: (f32 tensor, bf16 tensor) holding the same numbers.</summary>
    static (Tensor F32, Tensor Bf16) Pair(ulong seed, params int[] shape) => Pair(Ops.RandomNormal(new Shape(shape), seed, Cpu));

    static (Tensor F32, Tensor Bf16) Pair(Tensor values)
    {
        var b = Ops.ToDType(values, DType.BF16);
        return (Ops.ToDType(b, DType.F32), b);
    }

    static Tensor Empty(DType dtype, params int[] shape) => Ops.Empty(new Shape(shape), dtype, Cpu);

    static Tensor Copy(Tensor t)
    {
        var c = Ops.Empty(t.Shape, t.DType, Cpu);
        B.Copy(t, c);
        return c;
    }

    /// <summary>A broadcast view (stride 0 on the expanded axes) of <paramref name="t"/>.</summary>
    static Tensor Broadcast(Tensor t, params int[] shape)
    {
        var strides = new long[shape.Length];
        int lead = shape.Length - t.Rank;
        for (int i = lead; i < shape.Length; i++) strides[i] = t.Dim(i - lead) == 1 ? 0 : t.Strides[i - lead];
        return new Tensor(t.Storage, new Shape(shape), strides, t.Offset, t.DType);
    }

    /// <summary>Asserts that a bf16 tensor holds the f32 result rounded to nearest even, element by element.</summary>
    static void Rounded(Tensor f32, Tensor bf16, string what)
    {
        Assert.Equal(DType.F32, f32.DType);
        Assert.Equal(DType.BF16, bf16.DType);
        var e = f32.ToArray<float>();
        var a = bf16.ToArray<ushort>();
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++)
            if (Bf16.FromFloat(e[i]) != a[i])
                Assert.Fail($"{what}: element {i}: f32 path {e[i]:G9} rounds to 0x{Bf16.FromFloat(e[i]):X4}, bf16 path gave 0x{a[i]:X4} ({Bf16.ToFloat(a[i]):G9})");
    }

    static void Same(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(DType.F32, actual.DType);
        Assert.True(expected.ToArray<float>().AsSpan().SequenceEqual(actual.ToArray<float>()), $"{what}: f32 results differ");
    }

    [Fact]
    public void Unary_forward_and_backward_in_bf16_round_the_f32_results()
    {
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            var raw = Ops.RandomNormal(new Shape(7, 33), (ulong)op + 1, Cpu);
            if (op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt) raw = Ops.AddScalar(Ops.Abs(raw), 0.25f);
            var (x32, x16) = Pair(raw);
            var y32 = Empty(DType.F32, 7, 33);
            var y16 = Empty(DType.BF16, 7, 33);
            var yMixed = Empty(DType.F32, 7, 33);
            B.Unary(op, x32, y32, 0.75f);
            B.Unary(op, x16, y16, 0.75f);
            B.Unary(op, x16, yMixed, 0.75f);
            Rounded(y32, y16, $"{op} forward");
            Same(y32, yMixed, $"{op} forward, bf16 in, f32 out");

            // Backward from the bf16 forward output: the f32 path gets the same (widened) y.
            var yw = Ops.ToDType(y16, DType.F32);
            var (g32, g16) = Pair(40 + (ulong)op, 7, 33);
            var dx32 = Empty(DType.F32, 7, 33);
            var dx16 = Empty(DType.BF16, 7, 33);
            B.UnaryBackward(op, x32, yw, g32, dx32, 0.75f);
            B.UnaryBackward(op, x16, y16, g16, dx16, 0.75f);
            Rounded(dx32, dx16, $"{op} backward");
        }
    }

    [Fact]
    public void Binary_mixes_dtypes_and_broadcast_views()
    {
        var (a32, a16) = Pair(1, 3, 1, 5);
        var (b32, b16) = Pair(2, 4, 5);
        var divisor = Ops.AddScalar(Ops.Abs(Ops.RandomNormal(new Shape(4, 5), 3, Cpu)), 0.5f);
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            var (bb32, bb16) = op == BinaryOp.Div ? Pair(divisor) : (b32, b16);
            var y32 = Empty(DType.F32, 3, 4, 5);
            B.Binary(op, Broadcast(a32, 3, 4, 5), Broadcast(bb32, 3, 4, 5), y32);
            foreach (var (a, b) in new[] { (a16, bb16), (a16, bb32), (a32, bb16) })
            {
                var y16 = Empty(DType.BF16, 3, 4, 5);
                B.Binary(op, Broadcast(a, 3, 4, 5), Broadcast(b, 3, 4, 5), y16);
                Rounded(y32, y16, $"{op} {a.DType.Name()}∘{b.DType.Name()} → bf16");
                var yf = Empty(DType.F32, 3, 4, 5);
                B.Binary(op, Broadcast(a, 3, 4, 5), Broadcast(b, 3, 4, 5), yf);
                Same(y32, yf, $"{op} {a.DType.Name()}∘{b.DType.Name()} → f32");
            }
        }
        // Contiguous operands, and the in-place form the gradient accumulation uses (y aliases a).
        var (c32, c16) = Pair(4, 6, 7);
        var (d32, d16) = Pair(5, 6, 7);
        var s32 = Copy(c32);
        B.Binary(BinaryOp.Add, s32, d32, s32);
        var s16 = Copy(c16);
        B.Binary(BinaryOp.Add, s16, d16, s16);
        Rounded(s32, s16, "in-place add");
        var acc = Copy(c32);
        B.Binary(BinaryOp.Add, acc, d16, acc);
        Same(s32, acc, "f32 accumulator += bf16");
    }

    [Fact]
    public void Reductions_read_bf16()
    {
        var (x32, x16) = Pair(1, 4, 3, 9);
        foreach (var reduce in new[] { new[] { true, false, false }, new[] { false, true, true }, new[] { true, true, true }, new[] { false, false, true } })
        {
            var dims = new[] { 4, 3, 9 }.Select((d, i) => reduce[i] ? 1 : d).ToArray();
            var y32 = Empty(DType.F32, dims);
            var y16 = Empty(DType.BF16, dims);
            var yf = Empty(DType.F32, dims);
            B.Sum(x32, reduce, y32);
            B.Sum(x16, reduce, y16);
            B.Sum(x16, reduce, yf);
            Rounded(y32, y16, $"sum ({string.Join(",", reduce)})");
            Same(y32, yf, "sum of bf16 into f32");
        }
        var m32 = Empty(DType.F32, 4, 3, 1);
        var m16 = Empty(DType.BF16, 4, 3, 1);
        B.MaxLastAxis(x32, m32);
        B.MaxLastAxis(x16, m16);
        Rounded(m32, m16, "max");
    }

    public static TheoryData<bool, bool> Transposes() => new() { { false, false }, { true, false }, { false, true }, { true, true } };

    [Theory]
    [MemberData(nameof(Transposes))]
    public void MatMul_takes_bf16_a_b_and_c_and_accumulates_in_f32(bool transA, bool transB)
    {
        const int batch = 3, m = 7, k = 19, n = 11;
        int[] aShape = transA ? [batch, k, m] : [batch, m, k];
        int[] bShape = transB ? [1, n, k] : [1, k, n];   // b broadcast over the batch
        var (a32, a16) = Pair(1, aShape);
        var (b32, b16) = Pair(2, bShape);
        var (c032, c016) = Pair(3, batch, m, n);
        foreach (bool accumulate in new[] { false, true })
        {
            var c32 = Copy(c032);
            B.MatMul(a32, transA, b32, transB, c32, -0.5f, accumulate);
            foreach (var (a, b) in new[] { (a16, b16), (a16, b32), (a32, b16) })
            {
                var c16 = Copy(c016);
                B.MatMul(a, transA, b, transB, c16, -0.5f, accumulate);
                Rounded(c32, c16, $"matmul {a.DType.Name()}·{b.DType.Name()} → bf16, accumulate {accumulate}");
                var cf = Copy(c032);
                B.MatMul(a, transA, b, transB, cf, -0.5f, accumulate);
                Same(c32, cf, $"matmul {a.DType.Name()}·{b.DType.Name()} → f32, accumulate {accumulate}");
            }
        }
    }

    static Packed4BitWeight FourBitWeight(int outF, int inF, int blocksize)
    {
        var rng = new Random(5);
        var code = Enumerable.Range(0, 16).Select(i => (i - 7.5f) / 7.5f).ToArray();
        var packed = new byte[(outF * inF + 1) / 2];
        rng.NextBytes(packed);
        int blocks = (outF * inF + blocksize - 1) / blocksize;
        var absmax = Enumerable.Range(0, blocks).Select(_ => 0.5f + (float)rng.NextDouble()).ToArray();
        return new Packed4BitWeight
        {
            OutFeatures = outF, InFeatures = inF, Blocksize = blocksize, Code = code,
            Packed = Ops.FromArray(packed, new Shape(packed.Length), Cpu),
            Absmax = Ops.FromArray(absmax, new Shape(blocks), Cpu),
        };
    }

    [Fact]
    public void FourBit_matmul_input_grad_and_dequantize_take_bf16()
    {
        const int rows = 5, outF = 9, inF = 64;
        var w = FourBitWeight(outF, inF, 64);
        var (x32, x16) = Pair(1, rows, inF);
        var (y032, y016) = Pair(2, rows, outF);
        foreach (bool accumulate in new[] { false, true })
        {
            var y32 = Copy(y032);
            var y16 = Copy(y016);
            B.MatMul4Bit(x32, w, y32, accumulate);
            B.MatMul4Bit(x16, w, y16, accumulate);
            Rounded(y32, y16, $"4-bit matmul, accumulate {accumulate}");
        }
        var (g32, g16) = Pair(3, rows, outF);
        var dx32 = Empty(DType.F32, rows, inF);
        var dx16 = Empty(DType.BF16, rows, inF);
        B.MatMul4BitInputGrad(g32, w, dx32);
        B.MatMul4BitInputGrad(g16, w, dx16);
        Rounded(dx32, dx16, "4-bit input gradient");
        var d32 = Empty(DType.F32, outF, inF);
        var d16 = Empty(DType.BF16, outF, inF);
        B.Dequantize4Bit(w, d32);
        B.Dequantize4Bit(w, d16);
        Rounded(d32, d16, "dequantize");
    }

    [Fact]
    public void Embedding_gather_and_their_scatter_backwards_take_bf16()
    {
        var ids = Ops.FromArray(new long[] { 3, 0, 3, 5, 1, 3 }, new Shape(6), Cpu);
        var (w32, w16) = Pair(1, 6, 10);
        var y32 = Empty(DType.F32, 6, 10);
        B.Embedding(ids, w32, y32);
        foreach (var w in new[] { w16, Ops.RandomNormal(new Shape(6, 10), 1, Cpu) })
        {
            var y16 = Empty(DType.BF16, 6, 10);
            B.Embedding(ids, w, y16);
            var expect = Empty(DType.F32, 6, 10);
            B.Embedding(ids, Ops.ToDType(w, DType.F32), expect);
            Rounded(expect, y16, $"embedding of {w.DType.Name()} rows into bf16");
        }
        var (g32, g16) = Pair(2, 6, 10);
        var (dw032, dw016) = Pair(3, 6, 10);
        var dw32 = Copy(dw032);
        var dw16 = Copy(dw016);
        var dwf = Copy(dw032);
        B.EmbeddingBackward(ids, g32, dw32);
        B.EmbeddingBackward(ids, g16, dw16);
        B.EmbeddingBackward(ids, g16, dwf);
        Rounded(dw32, dw16, "embedding backward into bf16 (accumulated)");
        Same(dw32, dwf, "embedding backward of bf16 rows into f32");

        var index = Ops.FromArray(new long[] { 2, 0, 1, 1, 2, 0, 0, 0 }, new Shape(4, 2), Cpu);
        var (x32, x16) = Pair(4, 4, 3);
        var gy32 = Empty(DType.F32, 4, 2);
        var gy16 = Empty(DType.BF16, 4, 2);
        B.Gather(x32, 1, index, gy32);
        B.Gather(x16, 1, index, gy16);
        Rounded(gy32, gy16, "gather");
        var (gg32, gg16) = Pair(5, 4, 2);
        var (dx032, dx016) = Pair(6, 4, 3);
        var dx32 = Copy(dx032);
        var dx16 = Copy(dx016);
        B.ScatterAdd(gg32, 1, index, dx32);
        B.ScatterAdd(gg16, 1, index, dx16);
        Rounded(dx32, dx16, "scatter-add (accumulated)");
    }

    [Fact]
    public void Norms_keep_f32_statistics_and_round_bf16_outputs()
    {
        const int n = 5, c = 24;
        var (x32, x16) = Pair(1, n, c);
        var (w32, w16) = Pair(Ops.AddScalar(Ops.RandomNormal(new Shape(c), 2, Cpu), 1f));
        var (b32, b16) = Pair(3, c);
        var (g32, g16) = Pair(4, n, c);

        var ly32 = Empty(DType.F32, n, c);
        var mean32 = Empty(DType.F32, n);
        var rstd32 = Empty(DType.F32, n);
        B.LayerNorm(x32, w32, b32, 1e-5f, ly32, mean32, rstd32);
        var ly16 = Empty(DType.BF16, n, c);
        var mean = Empty(DType.F32, n);
        var rstd = Empty(DType.F32, n);
        B.LayerNorm(x16, w32, b16, 1e-5f, ly16, mean, rstd);   // f32 weight, bf16 bias
        Rounded(ly32, ly16, "layer norm y");
        Same(mean32, mean, "layer norm mean");
        Same(rstd32, rstd, "layer norm rstd");
        var (dw032, _) = Pair(5, c);
        var (_, db016) = Pair(6, c);
        var (dx32, dw32, db32) = (Empty(DType.F32, n, c), Copy(dw032), Ops.ToDType(db016, DType.F32));
        B.LayerNormBackward(x32, w32, mean32, rstd32, g32, dx32, dw32, db32);
        var (dx16, dw, db16) = (Empty(DType.BF16, n, c), Copy(dw032), Copy(db016));
        B.LayerNormBackward(x16, w16, mean, rstd, g16, dx16, dw, db16);
        Rounded(dx32, dx16, "layer norm dx");
        Same(dw32, dw, "layer norm dw (f32, accumulated)");
        Rounded(db32, db16, "layer norm db (bf16, accumulated)");

        var ry32 = Empty(DType.F32, n, c);
        var rr32 = Empty(DType.F32, n);
        B.RmsNorm(x32, w32, 1e-6f, ry32, rr32);
        var ry16 = Empty(DType.BF16, n, c);
        var rr = Empty(DType.F32, n);
        B.RmsNorm(x16, w16, 1e-6f, ry16, rr);
        Rounded(ry32, ry16, "rms norm y");
        Same(rr32, rr, "rms norm rstd");
        var (rdx32, rdw32) = (Empty(DType.F32, n, c), Copy(dw032));
        B.RmsNormBackward(x32, w32, rr32, g32, rdx32, rdw32);
        var (rdx16, rdw) = (Empty(DType.BF16, n, c), Copy(dw032));
        B.RmsNormBackward(x16, w16, rr, g16, rdx16, rdw);
        Rounded(rdx32, rdx16, "rms norm dx");
        Same(rdw32, rdw, "rms norm dw");
    }

    [Fact]
    public void Softmax_and_log_softmax_round_bf16()
    {
        var (x32, x16) = Pair(1, 6, 37);
        var (g32, g16) = Pair(2, 6, 37);
        foreach (bool log in new[] { false, true })
        {
            var y32 = Empty(DType.F32, 6, 37);
            var y16 = Empty(DType.BF16, 6, 37);
            B.Softmax(x32, y32, log);
            B.Softmax(x16, y16, log);
            Rounded(y32, y16, $"softmax (log {log})");
            var yw = Ops.ToDType(y16, DType.F32);
            var dx32 = Empty(DType.F32, 6, 37);
            var dx16 = Empty(DType.BF16, 6, 37);
            B.SoftmaxBackward(yw, g32, dx32, log);
            B.SoftmaxBackward(y16, g16, dx16, log);
            Rounded(dx32, dx16, $"softmax backward (log {log})");
        }
    }

    [Fact]
    public void Attention_forward_and_backward_in_bf16_keep_lse_f32()
    {
        const int b = 2, h = 4, hkv = 2, t = 5, s = 7, d = 8;
        var (q32, q16) = Pair(1, b, h, t, d);
        var (k32, k16) = Pair(2, b, hkv, s, d);
        var (v32, v16) = Pair(3, b, hkv, s, d);
        var mask = Ops.FromArray(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1 }, new Shape(b, s), Cpu);
        var p = new AttentionParams(1f / MathF.Sqrt(d), Causal: true, QOffset: 2);
        var o32 = Empty(DType.F32, b, h, t, d);
        var lse32 = Empty(DType.F32, b, h, t);
        B.Attention(q32, k32, v32, mask, p, o32, lse32);
        var o16 = Empty(DType.BF16, b, h, t, d);
        var lse = Empty(DType.F32, b, h, t);
        B.Attention(q16, k16, v16, mask, p, o16, lse);
        Rounded(o32, o16, "attention o");
        Same(lse32, lse, "attention lse");

        var ow = Ops.ToDType(o16, DType.F32);
        var (g32, g16) = Pair(4, b, h, t, d);
        var (dq32, dk32, dv32) = (Empty(DType.F32, b, h, t, d), Empty(DType.F32, b, hkv, s, d), Empty(DType.F32, b, hkv, s, d));
        B.AttentionBackward(q32, k32, v32, mask, p, ow, lse, g32, dq32, dk32, dv32);
        var (dq16, dk16, dv16) = (Empty(DType.BF16, b, h, t, d), Empty(DType.BF16, b, hkv, s, d), Empty(DType.BF16, b, hkv, s, d));
        B.AttentionBackward(q16, k16, v16, mask, p, o16, lse, g16, dq16, dk16, dv16);
        Rounded(dq32, dq16, "attention dq");
        Rounded(dk32, dk16, "attention dk");
        Rounded(dv32, dv16, "attention dv");
    }

    [Fact]
    public void Rope_dropout_and_random_fills_round_bf16()
    {
        var (x32, x16) = Pair(1, 2, 3, 5, 8);
        var positions = Ops.FromArray(new long[] { 0, 3, 4, 9, 100 }, new Shape(5), Cpu);
        foreach (bool inverse in new[] { false, true })
        {
            var y32 = Empty(DType.F32, 2, 3, 5, 8);
            var y16 = Empty(DType.BF16, 2, 3, 5, 8);
            B.Rope(x32, positions, 10000f, y32, inverse);
            B.Rope(x16, positions, 10000f, y16, inverse);
            Rounded(y32, y16, $"rope (inverse {inverse})");
        }
        var dr32 = Empty(DType.F32, 2, 3, 5, 8);
        var dr16 = Empty(DType.BF16, 2, 3, 5, 8);
        B.Dropout(x32, 0.3f, 7, 11, dr32);
        B.Dropout(x16, 0.3f, 7, 11, dr16);
        Rounded(dr32, dr16, "dropout");

        var n32 = Empty(DType.F32, 300);
        var n16 = Empty(DType.BF16, 300);
        B.RandomNormal(n32, 3, 5, 0.5f, 2f);
        B.RandomNormal(n16, 3, 5, 0.5f, 2f);
        Rounded(n32, n16, "random normal");
        B.RandomUniform(n32, 3, 5, -1f, 3f);
        B.RandomUniform(n16, 3, 5, -1f, 3f);
        Rounded(n32, n16, "random uniform");
        B.Fill(n32, 0.1f);
        B.Fill(n16, 0.1f);
        Rounded(n32, n16, "fill");
    }

    [Fact]
    public void Label_log_probs_of_bf16_logits_are_f32()
    {
        const int n = 6, v = 50;
        var (l32, l16) = Pair(1, n, v);
        var labels = Ops.FromArray(new long[] { 3, -100, 49, 0, 7, 7 }, new Shape(n), Cpu);
        var (lp32, lse32) = (Empty(DType.F32, n), Empty(DType.F32, n));
        B.LabelLogProbs(l32, labels, -100, lp32, lse32);
        var (lp, lse) = (Empty(DType.F32, n), Empty(DType.F32, n));
        B.LabelLogProbs(l16, labels, -100, lp, lse);
        Same(lp32, lp, "log-probs");
        Same(lse32, lse, "lse");
        var (g32, g16) = Pair(2, n);
        var d32 = Empty(DType.F32, n, v);
        var d16 = Empty(DType.BF16, n, v);
        B.LabelLogProbsBackward(l32, labels, -100, lse32, g32, d32);
        B.LabelLogProbsBackward(l16, labels, -100, lse, g16, d16);
        Rounded(d32, d16, "label log-prob backward");
    }

    [Fact]
    public void Optimiser_helpers_read_bf16_gradients()
    {
        var (g32, g16) = Pair(1, 40);
        var ss32 = Ops.Zeros(Shape.Scalar, DType.F32, Cpu);
        var ss = Ops.Zeros(Shape.Scalar, DType.F32, Cpu);
        B.SumSquares(g32, ss32);
        B.SumSquares(g16, ss);
        Same(ss32, ss, "sum of squares");

        var c32 = Copy(g32);
        var c16 = Copy(g16);
        B.ClipScale(c32, ss32, 0.5f);
        B.ClipScale(c16, ss, 0.5f);
        Rounded(c32, c16, "clip scale in place");

        var (p0, _) = Pair(2, 40);
        var (m0, _) = Pair(3, 40);
        var v0 = Ops.Abs(Pair(4, 40).F32);
        var step = new AdamWStep(1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 3);
        var (p32, m32, v32) = (Copy(p0), Copy(m0), Copy(v0));
        B.AdamW(p32, g32, m32, v32, step);
        var (p, m, v) = (Copy(p0), Copy(m0), Copy(v0));
        B.AdamW(p, g16, m, v, step);
        Same(p32, p, "AdamW param (bf16 gradient)");
        Same(m32, m, "AdamW m");
        Same(v32, v, "AdamW v");
    }
}
