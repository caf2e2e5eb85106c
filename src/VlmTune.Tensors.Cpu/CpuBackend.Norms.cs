using System.Numerics.Tensors;

namespace VlmTune.Tensors.Cpu;

// LayerNorm and RMSNorm over rows of (N,C); softmax / log-softmax over rows.
// Forward caches per row: LayerNorm mean and rstd (N), RMSNorm rstd (N). Backward: dx assigned; dw, db accumulated
// (+=) from per-thread partial sums.
public sealed unsafe partial class CpuBackend
{
    public void LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps, Tensor y, Tensor mean, Tensor rstd)
    {
        var (y32, m32, r32) = (Out(y, false), Out(mean, false), Out(rstd, false));
        LayerNormF32(W(x), W(weight), W(bias), eps, y32, m32, r32);
        Store(y32, y);
        Store(m32, mean);
        Store(r32, rstd);
    }

    void LayerNormF32(Tensor x, Tensor weight, Tensor? bias, float eps, Tensor y, Tensor mean, Tensor rstd)
    {
        using var keep = Hold(x, weight, bias, y, mean, rstd);
        var (n, c) = x.Shape.Dims2();
        float* xp = F(x), yp = F(y), mp = F(mean), rp = F(rstd), wp = F(weight), bp = bias == null ? null : F(bias);
        Par.For(n, 8, Threads, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var row = new ReadOnlySpan<float>(xp + (long)r * c, c);
                float mu = TensorPrimitives.Sum(row) / c;
                double var = 0;
                for (int i = 0; i < c; i++) { double d = row[i] - mu; var += d * d; }
                float rs = 1f / MathF.Sqrt((float)(var / c) + eps);
                mp[r] = mu;
                rp[r] = rs;
                float* yr = yp + (long)r * c;
                for (int i = 0; i < c; i++) yr[i] = (row[i] - mu) * rs * wp[i] + (bp == null ? 0f : bp[i]);
            }
        });
    }

    public void LayerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dy, Tensor dx, Tensor? dw, Tensor? db)
    {
        var (dx32, dw32, db32) = (Out(dx, false), Out(dw, true), Out(db, true));
        LayerNormBackwardF32(W(x), W(weight), W(mean), W(rstd), W(dy), dx32, dw32, db32);
        Store(dx32, dx);
        Store(dw32, dw);
        Store(db32, db);
    }

    void LayerNormBackwardF32(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dy, Tensor dx, Tensor? dw, Tensor? db)
    {
        using var keep = Hold(x, weight, mean, rstd, dy, dx, dw, db);
        var (n, c) = x.Shape.Dims2();
        float* xp = F(x), wp = F(weight), mp = F(mean), rp = F(rstd), gp = F(dy), dp = F(dx);
        float* dwp = dw == null ? null : F(dw), dbp = db == null ? null : F(db);
        var gate = new object();
        Par.For(n, 8, Threads, (s, e) =>
        {
            var pw = new float[c];
            var pb = new float[c];
            for (int r = s; r < e; r++)
            {
                float* xr = xp + (long)r * c, gr = gp + (long)r * c, dr = dp + (long)r * c;
                float mu = mp[r], rs = rp[r];
                float sumG = 0, sumGx = 0;
                for (int i = 0; i < c; i++)
                {
                    float xh = (xr[i] - mu) * rs, gw = gr[i] * wp[i];
                    sumG += gw;
                    sumGx += gw * xh;
                    pw[i] += gr[i] * xh;
                    pb[i] += gr[i];
                }
                float mg = sumG / c, mgx = sumGx / c;
                for (int i = 0; i < c; i++)
                {
                    float xh = (xr[i] - mu) * rs;
                    dr[i] = rs * (gr[i] * wp[i] - mg - xh * mgx);
                }
            }
            lock (gate)
            {
                if (dwp != null) for (int i = 0; i < c; i++) dwp[i] += pw[i];
                if (dbp != null) for (int i = 0; i < c; i++) dbp[i] += pb[i];
            }
        });
    }

    public void RmsNorm(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd)
    {
        var (y32, r32) = (Out(y, false), Out(rstd, false));
        RmsNormF32(W(x), W(weight), eps, y32, r32);
        Store(y32, y);
        Store(r32, rstd);
    }

    void RmsNormF32(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd)
    {
        using var keep = Hold(x, weight, y, rstd);
        var (n, c) = x.Shape.Dims2();
        float* xp = F(x), yp = F(y), rp = F(rstd), wp = F(weight);
        Par.For(n, 8, Threads, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var row = new ReadOnlySpan<float>(xp + (long)r * c, c);
                float rs = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / c + eps);
                rp[r] = rs;
                var yr = new Span<float>(yp + (long)r * c, c);
                TensorPrimitives.Multiply(row, rs, yr);
                TensorPrimitives.Multiply(yr, new ReadOnlySpan<float>(wp, c), yr);
            }
        });
    }

    public void RmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor? dw)
    {
        var (dx32, dw32) = (Out(dx, false), Out(dw, true));
        RmsNormBackwardF32(W(x), W(weight), W(rstd), W(dy), dx32, dw32);
        Store(dx32, dx);
        Store(dw32, dw);
    }

    void RmsNormBackwardF32(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor? dw)
    {
        using var keep = Hold(x, weight, rstd, dy, dx, dw);
        var (n, c) = x.Shape.Dims2();
        float* xp = F(x), wp = F(weight), rp = F(rstd), gp = F(dy), dp = F(dx);
        float* dwp = dw == null ? null : F(dw);
        var gate = new object();
        Par.For(n, 8, Threads, (s, e) =>
        {
            var pw = new float[c];
            for (int r = s; r < e; r++)
            {
                float* xr = xp + (long)r * c, gr = gp + (long)r * c, dr = dp + (long)r * c;
                float rs = rp[r], sumGx = 0;
                for (int i = 0; i < c; i++)
                {
                    float xh = xr[i] * rs;
                    sumGx += gr[i] * wp[i] * xh;
                    pw[i] += gr[i] * xh;
                }
                float m = sumGx / c;
                for (int i = 0; i < c; i++) dr[i] = rs * (gr[i] * wp[i] - xr[i] * rs * m);
            }
            if (dwp != null) lock (gate) for (int i = 0; i < c; i++) dwp[i] += pw[i];
        });
    }

    public void Softmax(Tensor x, Tensor y, bool log)
    {
        var y32 = Out(y, false);
        SoftmaxF32(W(x), y32, log);
        Store(y32, y);
    }

    void SoftmaxF32(Tensor x, Tensor y, bool log)
    {
        using var keep = Hold(x, y);
        var (n, c) = x.Shape.Dims2();
        float* xp = F(x), yp = F(y);
        Par.For(n, 4, Threads, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var row = new ReadOnlySpan<float>(xp + (long)r * c, c);
                var yr = new Span<float>(yp + (long)r * c, c);
                float max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, yr);
                if (log)
                {
                    float lse = MathF.Log(SumExp(yr));
                    TensorPrimitives.Subtract(yr, lse, yr);
                }
                else
                {
                    TensorPrimitives.Exp(yr, yr);
                    TensorPrimitives.Multiply(yr, 1f / TensorPrimitives.Sum(yr), yr);
                }
            }
        });
    }

    /// <summary>Σ exp(v) without modifying v (chunks through a stack buffer).</summary>
    static float SumExp(ReadOnlySpan<float> v)
    {
        Span<float> tmp = stackalloc float[1024];
        double sum = 0;
        for (int i = 0; i < v.Length; i += tmp.Length)
        {
            int len = Math.Min(tmp.Length, v.Length - i);
            TensorPrimitives.Exp(v.Slice(i, len), tmp[..len]);
            sum += TensorPrimitives.Sum(tmp[..len]);
        }
        return (float)sum;
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, bool log)
    {
        var dx32 = Out(dx, false);
        SoftmaxBackwardF32(W(y), W(dy), dx32, log);
        Store(dx32, dx);
    }

    void SoftmaxBackwardF32(Tensor y, Tensor dy, Tensor dx, bool log)
    {
        using var keep = Hold(y, dy, dx);
        var (n, c) = y.Shape.Dims2();
        float* yp = F(y), gp = F(dy), dp = F(dx);
        Par.For(n, 4, Threads, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var yr = new ReadOnlySpan<float>(yp + (long)r * c, c);
                var gr = new ReadOnlySpan<float>(gp + (long)r * c, c);
                var dr = new Span<float>(dp + (long)r * c, c);
                if (log)
                {
                    float sg = TensorPrimitives.Sum(gr);
                    TensorPrimitives.Exp(yr, dr);
                    TensorPrimitives.Multiply(dr, -sg, dr);
                    TensorPrimitives.Add(dr, gr, dr);
                }
                else
                {
                    float dot = TensorPrimitives.Dot(yr, gr);
                    TensorPrimitives.Subtract(gr, dot, dr);
                    TensorPrimitives.Multiply(dr, yr, dr);
                }
            }
        });
    }
}
