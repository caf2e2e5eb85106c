using VlmTune.Tensors.Autograd;

namespace VlmTune.Tensors;

// Views (reshape of contiguous data, permute/transpose, narrow) share storage; concat, contiguous and dtype
// conversion copy. Backward rules: reshape back, inverse permutation, scatter into zeros, split.
public static partial class Ops
{
    /// <summary>Reshape; one dimension may be −1. A view when <paramref name="x"/> is contiguous, else a copy first.</summary>
    public static Tensor Reshape(Tensor x, params int[] dims) => Reshape(x, ResolveShape(x, dims));

    public static Tensor Reshape(Tensor x, Shape shape)
    {
        if (shape.Numel != x.Numel) throw new ShapeException($"reshape: cannot view {x.Shape} as {shape}");
        if (shape == x.Shape) return x;
        var src = Contiguous(x);
        var y = new Tensor(src.Storage, shape, shape.ContiguousStrides(), src.Offset, src.DType);
        return Record(Op.Reshape, y, [src]);
    }

    static Shape ResolveShape(Tensor x, int[] dims)
    {
        int infer = Array.IndexOf(dims, -1);
        if (infer < 0) return new Shape(dims);
        long known = 1;
        for (int i = 0; i < dims.Length; i++) if (i != infer) known *= dims[i];
        if (known == 0 || x.Numel % known != 0) throw new ShapeException($"reshape: cannot view {x.Shape} as ({string.Join(",", dims)})");
        var d = (int[])dims.Clone();
        d[infer] = (int)(x.Numel / known);
        return new Shape(d);
    }

    /// <summary>Reorders axes (a view): output axis i is input axis <paramref name="perm"/>[i].</summary>
    public static Tensor Permute(Tensor x, params int[] perm)
    {
        if (perm.Length != x.Rank) throw new ShapeException($"permute: {perm.Length} axes for shape {x.Shape}");
        var seen = new bool[x.Rank];
        var dims = new int[x.Rank];
        var strides = new long[x.Rank];
        for (int i = 0; i < perm.Length; i++)
        {
            int p = x.Shape.Normalize(perm[i]);
            if (seen[p]) throw new ShapeException($"permute: axis {p} repeated in ({string.Join(",", perm)})");
            seen[p] = true;
            dims[i] = x.Shape.Dims[p];
            strides[i] = x.Strides[p];
        }
        var y = new Tensor(x.Storage, new Shape(dims), strides, x.Offset, x.DType);
        return Record(Op.Permute, y, [x], attrs: perm);
    }

    public static Tensor Transpose(Tensor x, int a, int b)
    {
        var perm = Enumerable.Range(0, x.Rank).ToArray();
        a = x.Shape.Normalize(a);
        b = x.Shape.Normalize(b);
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(x, perm);
    }

    /// <summary>The slice [start, start+length) of one axis (a view).</summary>
    public static Tensor Narrow(Tensor x, int axis, int start, int length)
    {
        axis = x.Shape.Normalize(axis);
        if (start < 0 || length < 0 || start + length > x.Shape.Dims[axis])
            throw new ShapeException($"narrow: [{start}, {start + length}) is outside axis {axis} of {x.Shape}");
        var y = new Tensor(x.Storage, x.Shape.With(axis, length), (long[])x.Strides.Clone(),
            x.Offset + start * x.Strides[axis], x.DType);
        return Record(Op.Narrow, y, [x], attrs: (axis, start));
    }

    /// <summary>Row-major contiguous data (the same tensor when already contiguous).</summary>
    public static Tensor Contiguous(Tensor x)
    {
        if (x.IsContiguous) return x;
        var y = Empty(x.Shape, x.DType, x.Device);
        x.Backend.Copy(x, y);
        return Record(Op.Contiguous, y, [x]);
    }

    /// <summary>
    /// Writes <paramref name="source"/> into <paramref name="destination"/> (same shape; any strides on both sides, e.g.
    /// a <see cref="Narrow"/> of a preallocated buffer such as a KV cache), converting the dtype. Not differentiable:
    /// it throws when grad mode is on and the source requires a gradient.
    /// </summary>
    public static void CopyInto(Tensor source, Tensor destination)
    {
        SameDevice(source, destination, "copy into");
        if (source.Shape != destination.Shape)
            throw new ShapeException($"copy into: source {source.Shape} and destination {destination.Shape} differ");
        if (source.DType.IsFloat() != destination.DType.IsFloat())
            throw new ShapeException($"copy into: cannot write {source.DType.Name()} into {destination.DType.Name()}");
        if (GradMode.IsEnabled && source.RequiresGrad)
            throw new InvalidOperationException("copy into: the source requires a gradient; copy under GradMode.NoGrad()");
        source.Backend.Copy(source, destination);
    }

    /// <summary>Joins tensors along <paramref name="axis"/>; f32 and bf16 inputs mix (the result is f32 if any is).</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> xs, int axis)
    {
        if (xs.Count == 0) throw new ShapeException("concat: no tensors");
        var first = xs[0];
        axis = first.Shape.Normalize(axis);
        int total = 0;
        var dtype = first.DType;
        foreach (var t in xs)
        {
            SameDevice(first, t, "concat");
            bool floats = t.DType is (DType.F32 or DType.BF16) && first.DType is (DType.F32 or DType.BF16);
            if ((t.DType != first.DType && !floats) || t.Rank != first.Rank)
                throw new ShapeException($"concat: {first.DType.Name()} {first.Shape} and {t.DType.Name()} {t.Shape} do not match");
            if (floats) dtype = Promote(dtype, t.DType);
            for (int i = 0; i < t.Rank; i++)
                if (i != axis && t.Shape.Dims[i] != first.Shape.Dims[i])
                    throw new ShapeException($"concat on axis {axis}: shapes {first.Shape} and {t.Shape} differ on axis {i}");
            total += t.Shape.Dims[axis];
        }
        var y = Empty(first.Shape.With(axis, total), dtype, first.Device);
        int at = 0;
        using (GradMode.NoGrad())
        {
            foreach (var t in xs)
            {
                first.Backend.Copy(t, Narrow(y, axis, at, t.Shape.Dims[axis]));
                at += t.Shape.Dims[axis];
            }
        }
        return Record(Op.Concat, y, xs.ToArray(), attrs: axis);
    }

    /// <summary>Converts the element type (f32 ↔ bf16/f16 rounding to nearest even; ints to float and back).</summary>
    public static Tensor ToDType(Tensor x, DType dtype)
    {
        if (x.DType == dtype) return x;
        var y = Empty(x.Shape, dtype, x.Device);
        x.Backend.Copy(x, y);
        return dtype.IsFloat() && x.DType.IsFloat() ? Record(Op.ToDType, y, [x]) : y;
    }

    /// <summary>torch.gather along <paramref name="axis"/>: y has <paramref name="index"/>'s shape.</summary>
    public static Tensor Gather(Tensor x, int axis, Tensor index)
    {
        RequireFloat(x, "gather", "x");
        RequireInt(index, "gather", "index");
        axis = x.Shape.Normalize(axis);
        if (index.Rank != x.Rank) throw new ShapeException($"gather: index {index.Shape} must have the rank of x {x.Shape}");
        for (int i = 0; i < x.Rank; i++)
            if (i != axis && index.Shape.Dims[i] > x.Shape.Dims[i])
                throw new ShapeException($"gather: index {index.Shape} exceeds x {x.Shape} on axis {i}");
        var xc = Contiguous(x);
        var ic = Contiguous(index);
        var y = Empty(index.Shape, x.DType, x.Device);
        x.Backend.Gather(xc, axis, ic, y);
        return Record(Op.Gather, y, [xc], [ic], axis);
    }

    /// <summary>
    /// Rows of <paramref name="weight"/> (V,C, any float dtype) selected by integer ids of any shape → (ids..., C), in
    /// <paramref name="dtype"/> (default f32; bf16 for bf16 activations — rows are converted, rounding to nearest even).
    /// </summary>
    public static Tensor Embedding(Tensor ids, Tensor weight, DType? dtype = null)
    {
        RequireInt(ids, "embedding", "ids");
        var yType = dtype ?? DType.F32;
        RequireComputeDType(yType, "embedding");
        if (!weight.DType.IsFloat()) throw new ShapeException($"embedding: weight must be a float tensor, got {weight.DType.Name()} {weight.Shape}");
        var (_, c) = weight.Shape.Dims2();
        var ic = Contiguous(ids);
        var y = Empty(new Shape([.. ids.Shape.ToArray(), c]), yType, weight.Device);
        weight.Backend.Embedding(ic, Contiguous(weight), y);
        return Record(Op.Embedding, y, [weight], [ic]);
    }
}
