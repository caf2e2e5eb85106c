using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

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
                GeluInner(x, y);
                TensorPrimitives.Tanh(y, y);
                GeluOuter(x, y);
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
        if (op == UnaryOp.GeluTanh || op == UnaryOp.Silu)
        {
            Par.For((int)x.Numel, 4096, Threads, (s, e) =>
            {
                float* scratch = stackalloc float[UnaryBlock];
                for (int i0 = s; i0 < e; i0 += UnaryBlock)
                {
                    int n = Math.Min(UnaryBlock, e - i0);
                    var xs = new ReadOnlySpan<float>(xp + i0, n);
                    var ts = new Span<float>(scratch, n);
                    // The transcendental stays the scalar MathF one of the former per-element loop, so the
                    // gradients are bit-identical to it; the arithmetic around it runs 8 lanes at a time.
                    if (op == UnaryOp.GeluTanh)
                    {
                        GeluInner(xs, ts);
                        for (int j = 0; j < n; j++) ts[j] = MathF.Tanh(ts[j]);
                        GeluGrad(xs, ts, gp + i0, dp + i0);
                    }
                    else
                    {
                        for (int j = 0; j < n; j++) ts[j] = 1f / (1f + MathF.Exp(-xs[j]));
                        SiluGrad(xs, ts, gp + i0, dp + i0);
                    }
                }
            });
            return;
        }
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
                    _ => throw new NotSupportedException(op.ToString()),
                };
            }
        });
    }

    /// <summary>Elements per stack scratch block of the vectorised GELU / SiLU backward.</summary>
    const int UnaryBlock = 1024;

    // GELU-tanh and SiLU, forward pieces and derivatives, 8 floats at a time with a scalar tail that evaluates the same
    // expression in the same order (IEEE operations, no contraction: the same bits as the scalar formulas). The forward's
    // tanh / sigmoid come from TensorPrimitives, the backward's from MathF, as before.
    //   GELU' = 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3a·x²), t = tanh(c·(x + a·x³));   SiLU' = s·(1 + x·(1 − s)), s = σ(x)

    /// <summary>u = c·(x + a·x·x·x), the argument of GELU's tanh.</summary>
    static void GeluInner(ReadOnlySpan<float> x, Span<float> u)
    {
        int i = 0;
        fixed (float* xp = x, up = u)
        {
            // SAFETY: i + 8 ≤ x.Length = u.Length on every vector load and store.
            if (Vector256.IsHardwareAccelerated)
            {
                var a = Vector256.Create(GeluA);
                var c = Vector256.Create(GeluC);
                for (; i + 8 <= x.Length; i += 8)
                {
                    var v = Vector256.Load(xp + i);
                    Vector256.Store(c * (v + a * v * v * v), up + i);
                }
            }
            for (; i < x.Length; i++) up[i] = GeluC * (xp[i] + GeluA * xp[i] * xp[i] * xp[i]);
        }
    }

    /// <summary>y = 0.5·x·(1 + t), t = tanh(u) already in y.</summary>
    static void GeluOuter(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        fixed (float* xp = x, yp = y)
        {
            // SAFETY: as in GeluInner.
            if (Vector256.IsHardwareAccelerated)
            {
                var half = Vector256.Create(0.5f);
                var one = Vector256<float>.One;
                for (; i + 8 <= x.Length; i += 8)
                    Vector256.Store(half * Vector256.Load(xp + i) * (one + Vector256.Load(yp + i)), yp + i);
            }
            for (; i < x.Length; i++) yp[i] = 0.5f * xp[i] * (1f + yp[i]);
        }
    }

    /// <summary>dx = GeluGrad(x)·g with t = tanh(c·(x + a·x³)) given.</summary>
    static void GeluGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> t, float* g, float* dx)
    {
        int i = 0;
        fixed (float* xp = x, tp = t)
        {
            // SAFETY: g and dx hold x.Length floats (the caller's block); i + 8 ≤ x.Length on every vector access.
            if (Vector256.IsHardwareAccelerated)
            {
                var half = Vector256.Create(0.5f);
                var one = Vector256<float>.One;
                var c = Vector256.Create(GeluC);
                var a3 = Vector256.Create(3f * GeluA);
                for (; i + 8 <= x.Length; i += 8)
                {
                    var v = Vector256.Load(xp + i);
                    var tv = Vector256.Load(tp + i);
                    var d = half * (one + tv) + half * v * (one - tv * tv) * c * (one + a3 * v * v);
                    Vector256.Store(d * Vector256.Load(g + i), dx + i);
                }
            }
            for (; i < x.Length; i++)
            {
                float v = xp[i], tv = tp[i];
                dx[i] = (0.5f * (1f + tv) + 0.5f * v * (1f - tv * tv) * GeluC * (1f + 3f * GeluA * v * v)) * g[i];
            }
        }
    }

    /// <summary>dx = s·(1 + x·(1 − s))·g with s = sigmoid(x) given.</summary>
    static void SiluGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> s, float* g, float* dx)
    {
        int i = 0;
        fixed (float* xp = x, sp = s)
        {
            // SAFETY: as in GeluGrad.
            if (Vector256.IsHardwareAccelerated)
            {
                var one = Vector256<float>.One;
                for (; i + 8 <= x.Length; i += 8)
                {
                    var v = Vector256.Load(xp + i);
                    var sv = Vector256.Load(sp + i);
                    Vector256.Store(sv * (one + v * (one - sv)) * Vector256.Load(g + i), dx + i);
                }
            }
            for (; i < x.Length; i++) dx[i] = sp[i] * (1f + xp[i] * (1f - sp[i])) * g[i];
        }
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
