using System.Numerics.Tensors;

namespace VlmTune.Tensors.Cpu;

// Elementwise kernels. Unary: y = f(x); backward dx = f'(x)·dy (assigned). Binary: broadcast views handled
// run by run along the innermost axis. Chunks of 4096 elements are spread over the threads. Public methods widen
// bf16 operands around the f32 kernels (CpuBackend.Precision.cs).
public sealed unsafe partial class CpuBackend
{
    const float GeluC = 0.7978845608028654f; // sqrt(2/π)
    const float GeluA = 0.044715f;

    public void Unary(UnaryOp op, Tensor x, Tensor y, float scalar = 0f)
    {
        var y32 = Out(y, false);
        UnaryF32(op, W(x), y32, scalar);
        Store(y32, y);
    }

    void UnaryF32(UnaryOp op, Tensor x, Tensor y, float scalar)
    {
        using var keep = Hold(x, y);
        float* xp = F(x), yp = F(y);
        Par.For((int)x.Numel, 4096, Threads, (s, e) =>
        {
            var xs = new ReadOnlySpan<float>(xp + s, e - s);
            var ys = new Span<float>(yp + s, e - s);
            UnaryForward(op, xs, ys, scalar);
        });
    }

    static void UnaryForward(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float scalar)
    {
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Rsqrt: TensorPrimitives.ReciprocalSqrt(x, y); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Scale: TensorPrimitives.Multiply(x, scalar, y); break;
            case UnaryOp.AddScalar: TensorPrimitives.Add(x, scalar, y); break;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); break;
            case UnaryOp.Relu: TensorPrimitives.Max(x, 0f, y); break;
            case UnaryOp.Silu:
                TensorPrimitives.Sigmoid(x, y);
                TensorPrimitives.Multiply(x, y, y);
                break;
            case UnaryOp.GeluTanh:
                // y = 0.5·x·(1 + tanh(c·(x + a·x³)))
                for (int i = 0; i < x.Length; i++) y[i] = GeluC * (x[i] + GeluA * x[i] * x[i] * x[i]);
                TensorPrimitives.Tanh(y, y);
                for (int i = 0; i < x.Length; i++) y[i] = 0.5f * x[i] * (1f + y[i]);
                break;
            default: throw new NotSupportedException(op.ToString());
        }
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float scalar = 0f)
    {
        var dx32 = Out(dx, false);
        UnaryBackwardF32(op, W(x), W(y), W(dy), dx32, scalar);
        Store(dx32, dx);
    }

    void UnaryBackwardF32(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float scalar)
    {
        using var keep = Hold(x, y, dy, dx);
        float* xp = F(x), yp = F(y), gp = F(dy), dp = F(dx);
        Par.For((int)x.Numel, 4096, Threads, (s, e) =>
        {
            for (int i = s; i < e; i++)
            {
                float xv = xp[i], yv = yp[i], g = gp[i];
                dp[i] = op switch
                {
                    UnaryOp.Neg => -g,
                    UnaryOp.Exp => yv * g,
                    UnaryOp.Log => g / xv,
                    UnaryOp.Sqrt => 0.5f * g / yv,
                    UnaryOp.Rsqrt => -0.5f * g * yv * yv * yv,
                    UnaryOp.Square => 2f * xv * g,
                    UnaryOp.Abs => xv > 0 ? g : xv < 0 ? -g : 0f,
                    UnaryOp.Scale => scalar * g,
                    UnaryOp.AddScalar => g,
                    UnaryOp.Sigmoid => yv * (1f - yv) * g,
                    UnaryOp.Tanh => (1f - yv * yv) * g,
                    UnaryOp.Relu => xv > 0 ? g : 0f,
                    UnaryOp.Silu => SiluGrad(xv) * g,
                    UnaryOp.GeluTanh => GeluGrad(xv) * g,
                    _ => throw new NotSupportedException(op.ToString()),
                };
            }
        });
    }

    static float SiluGrad(float x)
    {
        float s = 1f / (1f + MathF.Exp(-x));
        return s * (1f + x * (1f - s));
    }

    static float GeluGrad(float x)
    {
        float t = MathF.Tanh(GeluC * (x + GeluA * x * x * x));
        return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * GeluC * (1f + 3f * GeluA * x * x);
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        var y32 = Out(y, false);
        BinaryF32(op, W(a), W(b), y32);
        Store(y32, y);
    }

    void BinaryF32(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        using var keep = Hold(a, b, y);
        Contig(y, "binary output");
        int rank = y.Rank;
        if (a.IsContiguous && b.IsContiguous || rank == 0)
        {
            float* ap = F(a), bp = F(b), yp = F(y);
            Par.For((int)y.Numel, 4096, Threads, (s, e) =>
                BinaryRun(op, ap + s, 1, bp + s, 1, yp + s, e - s));
            return;
        }
        int inner = y.Shape.Dims[rank - 1];
        long outer = y.Numel / Math.Max(1, inner);
        long sa = a.Strides[rank - 1], sb = b.Strides[rank - 1];
        float* abase = (float*)((CpuStorage)a.Storage).Pointer, bbase = (float*)((CpuStorage)b.Storage).Pointer, yb = F(y);
        Par.For((int)outer, Math.Max(1, 4096 / Math.Max(1, inner)), Threads, (s, e) =>
        {
            for (int o = s; o < e; o++)
            {
                long rem = o, ao = a.Offset, bo = b.Offset;
                for (int ax = rank - 2; ax >= 0; ax--)
                {
                    int d = y.Shape.Dims[ax];
                    int i = (int)(rem % d);
                    rem /= d;
                    ao += i * a.Strides[ax];
                    bo += i * b.Strides[ax];
                }
                BinaryRun(op, abase + ao, sa, bbase + bo, sb, yb + (long)o * inner, inner);
            }
        });
    }

    static void BinaryRun(BinaryOp op, float* a, long sa, float* b, long sb, float* y, int n)
    {
        var ys = new Span<float>(y, n);
        if (sa == 1 && sb == 1)
        {
            var av = new ReadOnlySpan<float>(a, n);
            var bv = new ReadOnlySpan<float>(b, n);
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(av, bv, ys); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(av, bv, ys); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(av, bv, ys); return;
                case BinaryOp.Div: TensorPrimitives.Divide(av, bv, ys); return;
                case BinaryOp.Max: TensorPrimitives.Max(av, bv, ys); return;
                case BinaryOp.Min: TensorPrimitives.Min(av, bv, ys); return;
            }
        }
        if (sa == 1 && sb == 0)
        {
            var av = new ReadOnlySpan<float>(a, n);
            float bs = *b;
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(av, bs, ys); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(av, bs, ys); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(av, bs, ys); return;
                case BinaryOp.Div: TensorPrimitives.Divide(av, bs, ys); return;
            }
        }
        for (int i = 0; i < n; i++)
        {
            float x = a[i * sa], z = b[i * sb];
            y[i] = op switch
            {
                BinaryOp.Add => x + z,
                BinaryOp.Sub => x - z,
                BinaryOp.Mul => x * z,
                BinaryOp.Div => x / z,
                BinaryOp.Max => MathF.Max(x, z),
                BinaryOp.Min => MathF.Min(x, z),
                _ => throw new NotSupportedException(op.ToString()),
            };
        }
    }
}
