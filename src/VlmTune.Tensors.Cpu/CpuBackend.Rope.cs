namespace VlmTune.Tensors.Cpu;

// Rotary embedding, HF Llama convention: inv_freq[i] = 1/θ^(2i/D) (f32), angle = f32(pos)·inv_freq[i],
// y[i] = x[i]·cos − x[i+D/2]·sin, y[i+D/2] = x[i+D/2]·cos + x[i]·sin. The backward is the inverse rotation (−angle).
public sealed unsafe partial class CpuBackend
{
    public void Rope(Tensor x, Tensor positions, float theta, Tensor y, bool inverse)
    {
        var y32 = Out(y, false);
        RopeF32(W(x), positions, theta, y32, inverse);
        Store(y32, y);
    }

    void RopeF32(Tensor x, Tensor positions, float theta, Tensor y, bool inverse)
    {
        using var keep = Hold(x, positions, y);
        var (b, h, t, d) = x.Shape.Dims4();
        int half = d / 2;
        var invFreq = new float[half];
        for (int i = 0; i < half; i++) invFreq[i] = (float)(1.0 / Math.Pow(theta, (2.0 * i) / d));
        bool perBatch = positions.Rank == 2;
        float* xp = F(x), yp = F(y);
        float sign = inverse ? -1f : 1f;
        Par.For(b * t, 4, Threads, (s, e) =>
        {
            Span<float> cos = stackalloc float[half], sin = stackalloc float[half];
            for (int bt = s; bt < e; bt++)
            {
                int bi = bt / t, ti = bt % t;
                float pos = Index(positions, perBatch ? bt : ti);
                for (int i = 0; i < half; i++)
                {
                    float angle = pos * invFreq[i];
                    cos[i] = (float)Math.Cos(angle);
                    sin[i] = sign * (float)Math.Sin(angle);
                }
                for (int hi = 0; hi < h; hi++)
                {
                    long off = (((long)bi * h + hi) * t + ti) * d;
                    float* xr = xp + off, yr = yp + off;
                    for (int i = 0; i < half; i++)
                    {
                        float a = xr[i], c = xr[i + half];
                        yr[i] = a * cos[i] - c * sin[i];
                        yr[i + half] = c * cos[i] + a * sin[i];
                    }
                }
            }
        });
    }
}
