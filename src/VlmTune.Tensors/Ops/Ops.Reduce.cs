using VlmTune.Tensors.Autograd;

namespace VlmTune.Tensors;

public static partial class Ops
{
    /// <summary>Sum of all elements (a scalar tensor).</summary>
    public static Tensor Sum(Tensor x)
    {
        var all = new bool[x.Rank];
        Array.Fill(all, true);
        return Reshape(SumAxes(x, all), Shape.Scalar);
    }

    /// <summary>Sum over one axis.</summary>
    public static Tensor Sum(Tensor x, int axis, bool keepDim = false)
    {
        var reduce = new bool[x.Rank];
        reduce[x.Shape.Normalize(axis)] = true;
        var y = SumAxes(x, reduce);
        return keepDim ? y : Reshape(y, Squeeze(y.Shape, x.Shape.Normalize(axis)));
    }

    public static Tensor Mean(Tensor x) => Scale(Sum(x), 1f / Math.Max(1, x.Numel));

    public static Tensor Mean(Tensor x, int axis, bool keepDim = false)
        => Scale(Sum(x, axis, keepDim), 1f / x.Shape[axis]);

    /// <summary>Sum over the flagged axes, keeping them with size 1 (in x's dtype; accumulated in double).</summary>
    public static Tensor SumAxes(Tensor x, bool[] reduce) => SumAxes(x, reduce, x.DType);

    /// <summary>As <see cref="SumAxes(Tensor, bool[])"/> with the result in <paramref name="dtype"/> (e.g. an f32 bias gradient from bf16 rows).</summary>
    public static Tensor SumAxes(Tensor x, bool[] reduce, DType dtype)
    {
        RequireFloat(x, "sum", "x");
        RequireComputeDType(dtype, "sum");
        if (reduce.Length != x.Rank) throw new ShapeException($"sum: {reduce.Length} axis flags for shape {x.Shape}");
        var dims = x.Shape.ToArray();
        for (int i = 0; i < dims.Length; i++) if (reduce[i]) dims[i] = 1;
        var y = Empty(new Shape(dims), dtype, x.Device);
        x.Backend.Sum(x, reduce, y);
        return Record(Op.Sum, y, [x]);
    }

    /// <summary>Max over the last axis, kept as size 1 (not differentiable; for masks and stability shifts).</summary>
    public static Tensor MaxLastAxis(Tensor x)
    {
        RequireFloat(x, "max", "x");
        var xc = Contiguous(x);
        var y = Empty(x.Shape.With(-1, 1), x.DType, x.Device);
        x.Backend.MaxLastAxis(xc, y);
        return y;
    }

    static Shape Squeeze(Shape s, int axis)
    {
        var d = new List<int>(s.ToArray());
        d.RemoveAt(axis);
        return new Shape(d.ToArray());
    }
}
