using VlmTune.Tensors.Autograd;

namespace VlmTune.Tensors;

// Elementwise ops with numpy broadcasting. Backward: the gradient of a broadcast input is summed back to its shape.
// Dtypes: unary results keep the input's dtype; binary results are f32 if either operand is f32, else bf16.
public static partial class Ops
{
    public static Tensor Add(Tensor a, Tensor b) => Binary(BinaryOp.Add, Op.Add, a, b, "add");
    public static Tensor Sub(Tensor a, Tensor b) => Binary(BinaryOp.Sub, Op.Sub, a, b, "sub");
    public static Tensor Mul(Tensor a, Tensor b) => Binary(BinaryOp.Mul, Op.Mul, a, b, "mul");
    public static Tensor Div(Tensor a, Tensor b) => Binary(BinaryOp.Div, Op.Div, a, b, "div");

    static Tensor Binary(BinaryOp kind, Op op, Tensor a, Tensor b, string name)
    {
        SameDevice(a, b, name);
        RequireFloat(a, name, "a");
        RequireFloat(b, name, "b");
        var shape = Shape.Broadcast(a.Shape, b.Shape);
        var y = Empty(shape, Promote(a.DType, b.DType), a.Device);
        a.Backend.Binary(kind, ExpandView(a, shape), ExpandView(b, shape), y);
        var saved = op is Op.Mul or Op.Div ? new[] { a, b } : null;
        return Record(op, y, [a, b], saved);
    }

    /// <summary>y = x · s.</summary>
    public static Tensor Scale(Tensor x, float s) => Unary(UnaryOp.Scale, x, s);
    public static Tensor AddScalar(Tensor x, float s) => Unary(UnaryOp.AddScalar, x, s);
    public static Tensor Neg(Tensor x) => Unary(UnaryOp.Neg, x);
    public static Tensor Exp(Tensor x) => Unary(UnaryOp.Exp, x);
    public static Tensor Log(Tensor x) => Unary(UnaryOp.Log, x);
    public static Tensor Sqrt(Tensor x) => Unary(UnaryOp.Sqrt, x);
    public static Tensor Rsqrt(Tensor x) => Unary(UnaryOp.Rsqrt, x);
    public static Tensor Square(Tensor x) => Unary(UnaryOp.Square, x);
    public static Tensor Abs(Tensor x) => Unary(UnaryOp.Abs, x);
    public static Tensor Sigmoid(Tensor x) => Unary(UnaryOp.Sigmoid, x);
    public static Tensor Tanh(Tensor x) => Unary(UnaryOp.Tanh, x);
    public static Tensor Relu(Tensor x) => Unary(UnaryOp.Relu, x);
    /// <summary>GELU with the tanh approximation (PyTorch <c>gelu(approximate="tanh")</c>, HF <c>gelu_pytorch_tanh</c>).</summary>
    public static Tensor GeluTanh(Tensor x) => Unary(UnaryOp.GeluTanh, x);
    /// <summary>SiLU: x · sigmoid(x).</summary>
    public static Tensor Silu(Tensor x) => Unary(UnaryOp.Silu, x);
    /// <summary>SwiGLU gate: silu(gate) ⊙ up (the Llama MLP's inner product).</summary>
    public static Tensor SwiGlu(Tensor gate, Tensor up)
    {
        if (gate.Shape != up.Shape) throw new ShapeException($"swiglu: gate {gate.Shape} and up {up.Shape} differ");
        return Mul(Silu(gate), up);
    }

    public static Tensor Unary(UnaryOp kind, Tensor x, float scalar = 0f)
    {
        RequireFloat(x, kind.ToString(), "x");
        var xc = Contiguous(x);
        var y = Empty(x.Shape, x.DType, x.Device);
        x.Backend.Unary(kind, xc, y, scalar);
        return Record(Op.Unary, y, [xc], [xc, y], (kind, scalar));
    }

    /// <summary>A broadcast view of <paramref name="x"/> with <paramref name="shape"/> (stride 0 on expanded axes). Not recorded.</summary>
    internal static Tensor ExpandView(Tensor x, Shape shape)
    {
        if (x.Shape == shape) return x;
        int lead = shape.Rank - x.Rank;
        if (lead < 0) throw new ShapeException($"cannot expand {x.Shape} to {shape}");
        var strides = new long[shape.Rank];
        for (int i = 0; i < shape.Rank; i++)
        {
            if (i < lead) { strides[i] = 0; continue; }
            int d = x.Shape.Dims[i - lead];
            if (d == shape.Dims[i]) strides[i] = x.Strides[i - lead];
            else if (d == 1) strides[i] = 0;
            else throw new ShapeException($"cannot expand {x.Shape} to {shape}");
        }
        return new Tensor(x.Storage, shape, strides, x.Offset, x.DType);
    }

    /// <summary>Broadcasts <paramref name="x"/> to <paramref name="shape"/> (a view; the backward sums back).</summary>
    public static Tensor Expand(Tensor x, Shape shape)
    {
        var y = ExpandView(x, shape);
        return ReferenceEquals(y, x) ? x : Record(Op.Expand, y, [x]);
    }

    /// <summary>Sums <paramref name="g"/> (a broadcast result) back to <paramref name="shape"/>.</summary>
    public static Tensor SumTo(Tensor g, Shape shape)
    {
        if (g.Shape == shape) return g;
        int lead = g.Rank - shape.Rank;
        var reduce = new bool[g.Rank];
        for (int i = 0; i < g.Rank; i++)
            reduce[i] = i < lead || (shape.Dims[i - lead] == 1 && g.Shape.Dims[i] != 1);
        return Reshape(SumAxes(g, reduce), shape);
    }
}
