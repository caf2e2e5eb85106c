using VlmTune.Tensors.Autograd;

namespace VlmTune.Tensors;

// Fused neural-network ops. Legend: N = rows (all leading dims flattened), C = features, B = batch,
// H = query heads, Hkv = key/value heads, T = queries, S = keys, D = head size, V = vocabulary.
// Dtypes: outputs keep the (first) input's dtype, f32 or bf16; cached statistics (mean, rstd, lse) and label
// log-probs are f32. Weights and biases of the norms may be f32 or bf16.
public static partial class Ops
{
    /// <summary>LayerNorm over the last axis: (x − mean)/sqrt(var + eps) · w + b (biased variance).</summary>
    public static Tensor LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps)
    {
        RequireFloat(x, "layer_norm", "x");
        RequireFloat(weight, "layer_norm", "weight");
        if (bias != null) RequireFloat(bias, "layer_norm", "bias");
        int c = x.Shape[-1];
        if (weight.Shape != new Shape(c) || (bias != null && bias.Shape != new Shape(c)))
            throw new ShapeException($"layer_norm: x {x.Shape} needs weight/bias ({c}), got {weight.Shape}{(bias != null ? " and " + bias.Shape : "")}");
        int n = (int)(x.Numel / c);
        var xc = Contiguous(x);
        var y = Empty(x.Shape, x.DType, x.Device);
        var mean = Empty(new Shape(n), DType.F32, x.Device);
        var rstd = Empty(new Shape(n), DType.F32, x.Device);
        x.Backend.LayerNorm(As2(xc, n, c), weight, bias, eps, As2(y, n, c), mean, rstd);
        return Record(Op.LayerNorm, y, bias == null ? [xc, weight] : [xc, weight, bias], [xc, weight, mean, rstd]);
    }

    /// <summary>RMSNorm over the last axis, HF Llama semantics: x · rsqrt(mean(x²) + eps) · w.</summary>
    public static Tensor RmsNorm(Tensor x, Tensor weight, float eps)
    {
        RequireFloat(x, "rms_norm", "x");
        RequireFloat(weight, "rms_norm", "weight");
        int c = x.Shape[-1];
        if (weight.Shape != new Shape(c)) throw new ShapeException($"rms_norm: x {x.Shape} needs weight ({c}), got {weight.Shape}");
        int n = (int)(x.Numel / c);
        var xc = Contiguous(x);
        var y = Empty(x.Shape, x.DType, x.Device);
        var rstd = Empty(new Shape(n), DType.F32, x.Device);
        x.Backend.RmsNorm(As2(xc, n, c), weight, eps, As2(y, n, c), rstd);
        return Record(Op.RmsNorm, y, [xc, weight], [xc, weight, rstd]);
    }

    /// <summary>Softmax over the last axis.</summary>
    public static Tensor Softmax(Tensor x) => SoftmaxCore(x, log: false);

    /// <summary>Log-softmax over the last axis.</summary>
    public static Tensor LogSoftmax(Tensor x) => SoftmaxCore(x, log: true);

    static Tensor SoftmaxCore(Tensor x, bool log)
    {
        RequireFloat(x, "softmax", "x");
        int c = x.Shape[-1];
        int n = (int)(x.Numel / Math.Max(1, c));
        var xc = Contiguous(x);
        var y = Empty(x.Shape, x.DType, x.Device);
        x.Backend.Softmax(As2(xc, n, c), As2(y, n, c), log);
        return Record(log ? Op.LogSoftmax : Op.Softmax, y, [xc], [y]);
    }

    /// <summary>
    /// Scaled dot-product attention, blocked (the T×S score matrix is never materialised whole).
    /// q: (B,H,T,D); k, v: (B,Hkv,S,D), H a multiple of Hkv (GQA: query head h uses kv head h / (H/Hkv)).
    /// <paramref name="keyMask"/>: optional (B,S) integer mask, 0 = padding key (HF's attention_mask; any pattern).
    /// Causal: query i (at position i + <paramref name="qOffset"/>) sees keys 0..i+qOffset.
    /// Scale defaults to 1/√D. Returns (B,H,T,D).
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, bool causal, float? scale = null, int qOffset = 0, Tensor? keyMask = null)
    {
        RequireFloat(q, "attention", "q");
        RequireFloat(k, "attention", "k");
        RequireFloat(v, "attention", "v");
        var (b, h, t, d) = q.Shape.Dims4();
        var (bk, hkv, s, dk) = k.Shape.Dims4();
        if (bk != b || dk != d || v.Shape != k.Shape || hkv == 0 || h % hkv != 0)
            throw new ShapeException($"attention: q {q.Shape}, k {k.Shape}, v {v.Shape} are not (B,H,T,D), (B,Hkv,S,D) with H a multiple of Hkv");
        if (keyMask != null && (keyMask.DType is not (DType.I32 or DType.I64) || keyMask.Shape != new Shape(b, s)))
            throw new ShapeException($"attention: keyMask must be i32/i64 ({b},{s}), got {keyMask.DType.Name()} {keyMask.Shape}");
        var mask = keyMask == null ? null : Contiguous(ToDType(keyMask, DType.I32));
        var p = new AttentionParams(scale ?? 1f / MathF.Sqrt(d), causal, qOffset);
        var qc = Contiguous(q);
        // Inference may pass k, v as views of a preallocated cache (rows contiguous, strided heads): no copy then.
        bool recorded = GradMode.IsEnabled && (q.RequiresGrad || k.RequiresGrad || v.RequiresGrad);
        var kc = !recorded && RowsContiguous(k) ? k : Contiguous(k);
        var vc = !recorded && RowsContiguous(v) ? v : Contiguous(v);
        var o = Empty(q.Shape, q.DType, q.Device);
        var lse = Empty(new Shape(b, h, t), DType.F32, q.Device);
        q.Backend.Attention(qc, kc, vc, mask, p, o, lse);
        var saved = mask == null ? new[] { qc, kc, vc, o, lse } : [qc, kc, vc, o, lse, mask];
        return Record(Op.Attention, o, [qc, kc, vc], saved, p);
    }

    /// <summary>(B,Hkv,S,D) with each head's S×D block row-major (any batch and head strides): what attention reads.</summary>
    static bool RowsContiguous(Tensor x) =>
        (x.Shape[3] == 1 || x.Strides[3] == 1) && (x.Shape[2] == 1 || x.Strides[2] == x.Shape[3]);

    /// <summary>
    /// Rotary position embedding, HF Llama style (not interleaved: pairs (i, i + D/2), rotate_half).
    /// x: (B,H,T,D); positions: i32/i64 (T) or (B,T).
    /// </summary>
    public static Tensor Rope(Tensor x, Tensor positions, float theta)
    {
        RequireFloat(x, "rope", "x");
        RequireInt(positions, "rope", "positions");
        var (b, _, t, d) = x.Shape.Dims4();
        if (d % 2 != 0) throw new ShapeException($"rope: head size must be even, got {x.Shape}");
        if (positions.Shape != new Shape(t) && positions.Shape != new Shape(b, t))
            throw new ShapeException($"rope: positions {positions.Shape} must be ({t}) or ({b},{t}) for x {x.Shape}");
        var xc = Contiguous(x);
        var pc = Contiguous(positions);
        var y = Empty(x.Shape, x.DType, x.Device);
        x.Backend.Rope(xc, pc, theta, y, inverse: false);
        return Record(Op.Rope, y, [xc], [pc], theta);
    }

    /// <summary>
    /// Per-token log-probabilities of the labels: logits (..., V), labels (...) → (...), 0 where label == ignoreIndex.
    /// The DPO building block; never materialises the full log-softmax. Logits may be f32 or bf16; the log-softmax
    /// is computed in f32 and the result is f32.
    /// </summary>
    public static Tensor TokenLogProbs(Tensor logits, Tensor labels, int ignoreIndex = -100)
    {
        RequireFloat(logits, "token_logprobs", "logits");
        RequireInt(labels, "token_logprobs", "labels");
        int v = logits.Shape[-1];
        if (labels.Rank != logits.Rank - 1 || !labels.Shape.Dims.SequenceEqual(logits.Shape.Dims[..^1]))
            throw new ShapeException($"token_logprobs: labels {labels.Shape} do not match logits {logits.Shape}");
        int n = (int)labels.Numel;
        var lc = Contiguous(logits);
        var yc = Contiguous(labels);
        var logp = Empty(labels.Shape, DType.F32, logits.Device);
        var lse = Empty(new Shape(n), DType.F32, logits.Device);
        logits.Backend.LabelLogProbs(As2(lc, n, v), yc, ignoreIndex, logp, lse);
        return Record(Op.LabelLogProbs, logp, [lc], [lc, yc, lse], ignoreIndex);
    }

    /// <summary>
    /// Cross-entropy with ignored labels: mean over non-ignored tokens (NaN when there are none, as PyTorch)
    /// or their sum. The count stays on the device.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels, bool mean = true, int ignoreIndex = -100)
    {
        var total = Neg(Sum(TokenLogProbs(logits, labels, ignoreIndex)));
        if (!mean) return total;
        var count = Empty(Shape.Scalar, DType.F32, logits.Device);
        logits.Backend.CountValid(Contiguous(labels), ignoreIndex, count);
        return Div(total, count);
    }

    /// <summary>
    /// Inverted dropout with a counter-based mask: element i is kept iff uniform(seed, offset + i) ≥ p.
    /// The backward recomputes the same mask, so nothing is stored.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, ulong seed, ulong offset = 0)
    {
        if (p <= 0f) return x;
        if (p >= 1f) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be below 1");
        RequireFloat(x, "dropout", "x");
        var xc = Contiguous(x);
        var y = Empty(x.Shape, x.DType, x.Device);
        x.Backend.Dropout(xc, p, seed, offset, y);
        return Record(Op.Dropout, y, [xc], attrs: (p, seed, offset));
    }

    /// <summary>
    /// Idefics3 / SmolVLM connector pixel shuffle: x (n, S, D) with S = h², h divisible by r → (n, S/r², D·r²).
    /// Output token p·(w/r)+q concatenates its r×r patch block row-major (the view/permute sequence of HF).
    /// </summary>
    public static Tensor PixelShuffle(Tensor x, int r)
    {
        var (n, s, d) = x.Shape.Dims3();
        int h = (int)Math.Round(Math.Sqrt(s));
        if (h * h != s || h % r != 0) throw new ShapeException($"pixel_shuffle: sequence {s} of {x.Shape} is not a square grid divisible by {r}");
        var y = Reshape(x, n, h, h / r, d * r);
        y = Permute(y, 0, 2, 1, 3);
        y = Reshape(y, n, h / r, h / r, d * r * r);
        y = Permute(y, 0, 2, 1, 3);
        return Reshape(y, n, s / (r * r), d * r * r);
    }

    /// <summary>
    /// Non-overlapping patches: x (N,C,H,W) → (N, (H/P)·(W/P), C·P·P), patch index row-major, features in
    /// (channel, ky, kx) order — the layout of a Conv2d weight (D,C,P,P) flattened.
    /// </summary>
    public static Tensor Patchify(Tensor x, int p)
    {
        var (n, c, h, w) = x.Shape.Dims4();
        if (h % p != 0 || w % p != 0) throw new ShapeException($"patchify: image {x.Shape} is not divisible into {p}x{p} patches");
        var y = Reshape(x, n, c, h / p, p, w / p, p);
        y = Permute(y, 0, 2, 4, 1, 3, 5);
        return Reshape(y, n, (h / p) * (w / p), c * p * p);
    }

    /// <summary>Conv2d with stride = kernel = P and no padding: x (N,C,H,W), w (D,C,P,P), b (D) → (N,D,H/P,W/P).</summary>
    public static Tensor ConvPatchify(Tensor x, Tensor w, Tensor? b)
    {
        var (dOut, c, p, p2) = w.Shape.Dims4();
        if (p != p2 || x.Shape[1] != c) throw new ShapeException($"conv_patchify: image {x.Shape} and weight {w.Shape} do not match");
        var (n, _, h, wd) = x.Shape.Dims4();
        var patches = Patchify(x, p);                          // (N, G, C·P·P)
        var y = Linear(patches, Reshape(w, dOut, c * p * p), b); // (N, G, D)
        return Permute(Reshape(y, n, h / p, wd / p, dOut), 0, 3, 1, 2);
    }

    internal static Tensor As2(Tensor t, int rows, int cols)
    {
        if (!t.IsContiguous) throw new InvalidOperationException("As2 needs contiguous data");
        var s = new Shape(rows, cols);
        return new Tensor(t.Storage, s, s.ContiguousStrides(), t.Offset, t.DType);
    }
}
