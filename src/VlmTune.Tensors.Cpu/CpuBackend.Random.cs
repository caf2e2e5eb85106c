namespace VlmTune.Tensors.Cpu;

// Counter-based random fills and dropout (Philox4x32-10, element i uses counter offset + i).
public sealed unsafe partial class CpuBackend
{
    public void RandomUniform(Tensor destination, ulong seed, ulong offset, float low, float high)
    {
        var d32 = Out(destination, false);
        using (Hold(d32))
        {
            float* p = F(d32);
            Par.For((int)d32.Numel, 4096, Threads, (s, e) =>
            {
                for (int i = s; i < e; i++) p[i] = low + (high - low) * Philox.Uniform(seed, offset + (ulong)i);
            });
        }
        Store(d32, destination);
    }

    public void RandomNormal(Tensor destination, ulong seed, ulong offset, float mean, float std)
    {
        var d32 = Out(destination, false);
        using (Hold(d32))
        {
            float* p = F(d32);
            Par.For((int)d32.Numel, 4096, Threads, (s, e) =>
            {
                for (int i = s; i < e; i++) p[i] = mean + std * Philox.Normal(seed, offset + (ulong)i);
            });
        }
        Store(d32, destination);
    }

    public void Dropout(Tensor x, float p, ulong seed, ulong offset, Tensor y)
    {
        var y32 = Out(y, false);
        DropoutF32(W(x), p, seed, offset, y32);
        Store(y32, y);
    }

    void DropoutF32(Tensor x, float p, ulong seed, ulong offset, Tensor y)
    {
        using var keep = Hold(x, y);
        float* xp = F(x), yp = F(y);
        float scale = 1f / (1f - p);
        Par.For((int)x.Numel, 4096, Threads, (s, e) =>
        {
            for (int i = s; i < e; i++) yp[i] = Philox.Uniform(seed, offset + (ulong)i) >= p ? xp[i] * scale : 0f;
        });
    }
}
