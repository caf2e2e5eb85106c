using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

// Elementwise family: y = f(x) (Unary), dx = f'(x)·dy written (UnaryBackward), y = a ∘ b (Binary). Grid-stride
// loops over the output's elements; every operand is a KTensor of any float dtype (widened on load, rounded on
// store) and any strides, broadcast (stride 0) included. Bit k of `dense` is set when operand k is row-major
// contiguous: its element i is then Offset + i, with no index arithmetic. Formulas and their order of float
// operations are the CPU backend's (CpuBackend.Elementwise.cs); transcendental functions come from KMath.
public static class ElementwiseKernels
{
    const float GeluC = 0.7978845608028654f; // sqrt(2/π)
    const float GeluA = 0.044715f;

    /// <summary>Storage element of row-major index i of operand <paramref name="bit"/>.</summary>
    public static long Elem(KTensor t, int dense, int bit, long i) => (dense & (1 << bit)) != 0 ? t.Offset + i : t.At(i);

    /// <summary>y = f(x); operands 0 = x, 1 = y.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void Unary(KTensor x, KTensor y, int op, float scalar, int dense)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < y.Numel; i += stride)
            y.Store(Elem(y, dense, 1, i), Forward(op, x.Load(Elem(x, dense, 0, i)), scalar));
    }

    /// <summary>dx = f'(x)·dy; operands 0 = x, 1 = y (the forward output), 2 = dy, 3 = dx.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void UnaryBackward(KTensor x, KTensor y, KTensor dy, KTensor dx, int op, float scalar, int dense)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < dx.Numel; i += stride)
        {
            float xv = x.Load(Elem(x, dense, 0, i)), yv = y.Load(Elem(y, dense, 1, i)), g = dy.Load(Elem(dy, dense, 2, i));
            dx.Store(Elem(dx, dense, 3, i), Backward(op, xv, yv, g, scalar));
        }
    }

    /// <summary>y = a ∘ b; operands 0 = a, 1 = b, 2 = y (all of y's shape; a and b may be broadcast views).</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void Binary(KTensor a, KTensor b, KTensor y, int op, int dense)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < y.Numel; i += stride)
        {
            float u = a.Load(Elem(a, dense, 0, i)), v = b.Load(Elem(b, dense, 1, i));
            float r;
            switch (op)
            {
                case (int)BinaryOp.Add: r = u + v; break;
                case (int)BinaryOp.Sub: r = u - v; break;
                case (int)BinaryOp.Mul: r = u * v; break;
                case (int)BinaryOp.Div: r = u / v; break;
                case (int)BinaryOp.Max: r = KMath.Max(u, v); break;
                case (int)BinaryOp.Min: r = KMath.Min(u, v); break;
                default: r = float.NaN; break;
            }
            y.Store(Elem(y, dense, 2, i), r);
        }
    }

    public static float Forward(int op, float x, float s)
    {
        switch (op)
        {
            case (int)UnaryOp.Neg: return -x;
            case (int)UnaryOp.Exp: return KMath.Exp(x);
            case (int)UnaryOp.Log: return KMath.Log(x);
            case (int)UnaryOp.Sqrt: return MathF.Sqrt(x);
            case (int)UnaryOp.Rsqrt: return 1f / MathF.Sqrt(x); // sqrt.rn + div.rn: TensorPrimitives.ReciprocalSqrt's value
            case (int)UnaryOp.Square: return x * x;
            case (int)UnaryOp.Abs: return MathF.Abs(x);
            case (int)UnaryOp.Scale: return x * s;
            case (int)UnaryOp.AddScalar: return x + s;
            case (int)UnaryOp.GeluTanh:
                // y = 0.5·x·(1 + tanh(c·(x + a·x³)))
                return 0.5f * x * (1f + KMath.Tanh(GeluC * (x + GeluA * x * x * x)));
            case (int)UnaryOp.Silu: return x * KMath.Sigmoid(x);
            case (int)UnaryOp.Sigmoid: return KMath.Sigmoid(x);
            case (int)UnaryOp.Tanh: return KMath.Tanh(x);
            case (int)UnaryOp.Relu: return KMath.Max(x, 0f);
            default: return float.NaN;
        }
    }

    /// <summary>f'(x)·g; Exp, Sqrt, Rsqrt, Sigmoid and Tanh use the forward output y, as the CPU backend does.</summary>
    public static float Backward(int op, float x, float y, float g, float s)
    {
        switch (op)
        {
            case (int)UnaryOp.Neg: return -g;
            case (int)UnaryOp.Exp: return y * g;
            case (int)UnaryOp.Log: return g / x;
            case (int)UnaryOp.Sqrt: return 0.5f * g / y;
            case (int)UnaryOp.Rsqrt: return -0.5f * g * y * y * y;
            case (int)UnaryOp.Square: return 2f * x * g;
            case (int)UnaryOp.Abs: return x > 0 ? g : x < 0 ? -g : 0f;
            case (int)UnaryOp.Scale: return s * g;
            case (int)UnaryOp.AddScalar: return g;
            case (int)UnaryOp.Sigmoid: return y * (1f - y) * g;
            case (int)UnaryOp.Tanh: return (1f - y * y) * g;
            case (int)UnaryOp.Relu: return x > 0 ? g : 0f;
            case (int)UnaryOp.Silu:
            {
                float sg = 1f / (1f + KMath.Exp(-x));
                return sg * (1f + x * (1f - sg)) * g;
            }
            case (int)UnaryOp.GeluTanh:
            {
                float t = KMath.Tanh(GeluC * (x + GeluA * x * x * x));
                return (0.5f * (1f + t) + 0.5f * x * (1f - t * t) * GeluC * (1f + 3f * GeluA * x * x)) * g;
            }
            default: return float.NaN;
        }
    }
}
