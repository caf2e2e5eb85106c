using VlmTune.Tensors.Autograd;

namespace VlmTune.Tensors;

// Legend: B = flattened batch, M,N,K = matrix dims; in/out = Linear features.
public static partial class Ops
{
    /// <summary>
    /// Batched matrix product a (...,M,K) · b (...,K,N) → (...,M,N) in a's dtype (accumulated in f32). The leading
    /// dims must match, or b may be rank 2 (shared across the batch).
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        SameDevice(a, b, "matmul");
        RequireFloat(a, "matmul", "a");
        RequireFloat(b, "matmul", "b");
        if (a.Rank < 2 || b.Rank < 2) throw new ShapeException($"matmul: needs rank ≥ 2, got {a.Shape} and {b.Shape}");
        int m = a.Shape[-2], k = a.Shape[-1], k2 = b.Shape[-2], n = b.Shape[-1];
        if (k != k2) throw new ShapeException($"matmul: inner dimensions differ in {a.Shape} · {b.Shape}");
        bool shared = b.Rank == 2;
        if (!shared && !a.Shape.Dims[..^2].SequenceEqual(b.Shape.Dims[..^2]))
            throw new ShapeException($"matmul: batch dimensions differ in {a.Shape} · {b.Shape}");
        int batch = (int)(a.Numel / Math.Max(1L, (long)m * k));
        var a3 = As3(Contiguous(a), batch, m, k);
        var b3 = As3(Contiguous(b), shared ? 1 : batch, k, n);
        var outDims = a.Shape.ToArray();
        outDims[^1] = n;
        var y = Empty(new Shape(outDims), a.DType, a.Device);
        a.Backend.MatMul(a3, false, b3, false, As3(y, batch, m, n), 1f, false);
        return Record(Op.MatMul, y, [a, b], [a3, b3], shared);
    }

    /// <summary>
    /// Linear layer: y = x · wᵀ + b with x (..., in), w (out, in) in f32 or bf16, b (out) or null → (..., out), in
    /// <paramref name="dtype"/> (default: x's dtype), accumulated in f32. A bias is written into y first and the
    /// product accumulated onto it. Backward gives dx always, dw/db only when the weight/bias require gradients
    /// (frozen weights never get one).
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor w, Tensor? b = null, DType? dtype = null)
    {
        SameDevice(x, w, "linear");
        RequireFloat(x, "linear", "x");
        var yType = dtype ?? x.DType;
        RequireComputeDType(yType, "linear");
        var (outF, inF) = w.Shape.Dims2();
        if (x.Shape[-1] != inF) throw new ShapeException($"linear: x {x.Shape} does not match weight {w.Shape} (in = {inF})");
        if (w.DType is not (DType.F32 or DType.BF16)) throw new ShapeException($"linear: weight must be f32 or bf16, got {w.DType.Name()}");
        if (b != null && (b.Rank != 1 || b.Shape[0] != outF)) throw new ShapeException($"linear: bias {b.Shape} does not match weight {w.Shape}");
        int rows = (int)(x.Numel / inF);
        var xc = Contiguous(x);
        var outDims = x.Shape.ToArray();
        outDims[^1] = outF;
        var y = Empty(new Shape(outDims), yType, x.Device);
        var y3 = As3(y, 1, rows, outF);
        if (b != null)
        {
            using (GradMode.NoGrad())
                x.Backend.Copy(ExpandView(b, new Shape(rows, outF)), Reshape(y, rows, outF));
        }
        x.Backend.MatMul(As3(xc, 1, rows, inF), false, As3(w, 1, outF, inF), true, y3, 1f, accumulate: b != null);
        return Record(Op.Linear, y, b == null ? [xc, w] : [xc, w, b], [xc, w]);
    }

    /// <summary>
    /// Linear layer over a frozen 4-bit weight: y = x · dequant(w)ᵀ + b, x (..., in) → (..., out). The backward gives
    /// dx (and db when the bias is trainable), never a weight gradient (QLoRA's frozen base; torchao LinearNF4's contract).
    /// The result has x's dtype (f32 or bf16); the product accumulates in f32.
    /// </summary>
    public static Tensor Linear4Bit(Tensor x, Quantization.Packed4BitWeight w, Tensor? b = null)
    {
        RequireFloat(x, "linear4bit", "x");
        if (!ReferenceEquals(x.Device, w.Device)) throw new ShapeException($"linear4bit: x on {x.Device}, weight {w.Name} on {w.Device}");
        if (x.Shape[-1] != w.InFeatures) throw new ShapeException($"linear4bit: x {x.Shape} does not match weight {w.Name} ({w.OutFeatures},{w.InFeatures})");
        if (b != null && (b.Rank != 1 || b.Shape[0] != w.OutFeatures)) throw new ShapeException($"linear4bit: bias {b.Shape} does not match weight ({w.OutFeatures},{w.InFeatures})");
        int rows = (int)(x.Numel / w.InFeatures);
        var xc = Contiguous(x);
        var outDims = x.Shape.ToArray();
        outDims[^1] = w.OutFeatures;
        var y = Empty(new Shape(outDims), x.DType, x.Device);
        if (b != null)
        {
            using (GradMode.NoGrad())
                x.Backend.Copy(ExpandView(b, new Shape(rows, w.OutFeatures)), Reshape(y, rows, w.OutFeatures));
        }
        x.Backend.MatMul4Bit(As2(xc, rows, w.InFeatures), w, As2(y, rows, w.OutFeatures), accumulate: b != null);
        return Record(Op.Linear4Bit, y, b == null ? [xc] : [xc, b], attrs: w);
    }

    /// <summary>The dequantised weight (out, in) f32 — for merging and DoRA, not for the forward pass.</summary>
    public static Tensor Dequantize(Quantization.Packed4BitWeight w)
    {
        var t = Empty(new Shape(w.OutFeatures, w.InFeatures), DType.F32, w.Device);
        w.Device.Backend.Dequantize4Bit(w, t);
        return t;
    }

    /// <summary>A rank-3 view (batch, rows, cols) of contiguous data; not recorded.</summary>
    internal static Tensor As3(Tensor t, int batch, int rows, int cols)
    {
        if (!t.IsContiguous) throw new InvalidOperationException("As3 needs contiguous data");
        var s = new Shape(batch, rows, cols);
        return new Tensor(t.Storage, s, s.ContiguousStrides(), t.Offset, t.DType);
    }
}
