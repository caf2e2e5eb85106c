namespace VlmTune.Tensors.Cpu;

// Counter-based random fills and dropout (Philox4x32-10, element i uses counter offset + i).
public sealed unsafe partial class CpuBackend
{
    public void RandomUniform(Tensor destination, ulong seed, ulong offset, float low, float high)
    {
        using var keep = Hold(destination);
        float* p = F(destination);
        Par.For((int)destination.Numel, 4096, Threads, (s, e) =>
        {
            for (int i = s; i < e; i++) p[i] = low + (high - low) * Philox.Uniform(seed, offset + (ulong)i);
        });
    }

    public void RandomNormal(Tensor destination, ulong seed, ulong offset, float mean, float std)
    {
        using var keep = Hold(destination);
        float* p = F(destination);
        Par.For((int)destination.Numel, 4096, Threads, (s, e) =>
        {
            for (int i = s; i < e; i++) p[i] = mean + std * Philox.Normal(seed, offset + (ulong)i);
        });
    }

    public void Dropout(Tensor x, float p, ulong seed, ulong offset, Tensor y)
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
