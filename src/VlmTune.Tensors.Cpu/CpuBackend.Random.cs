using System.Runtime.Intrinsics;
using VlmTune.Tensors.Cpu.Kernels;

namespace VlmTune.Tensors.Cpu;

// Counter-based random fills and dropout (Philox4x32-10, element i uses counter offset + i).
public sealed unsafe partial class CpuBackend
{
    /// <summary>Philox words drawn at a time per thread (a stack buffer).</summary>
    const int WordBlock = 1024;

    public void RandomUniform(Tensor destination, ulong seed, ulong offset, float low, float high)
    {
        var d32 = Out(destination, false);
        using (Hold(d32))
        {
            float* p = F(d32);
            Par.For((int)d32.Numel, 4096, Threads, (s, e) =>
            {
                uint* words = stackalloc uint[WordBlock];
                for (int i0 = s; i0 < e; i0 += WordBlock)
                {
                    int n = Math.Min(WordBlock, e - i0);
                    PhiloxLanes.Word0(seed, offset + (ulong)i0, words, n);
                    for (int j = 0; j < n; j++) p[i0 + j] = low + (high - low) * Philox.UniformFromWord(words[j]);
                }
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
            // keep[i] = uniform(seed, offset + i) ≥ p, the uniform being Philox.UniformFromWord's (word 0 >> 8) · 2⁻²⁴, exact.
            uint* words = stackalloc uint[WordBlock];
            for (int i0 = s; i0 < e; i0 += WordBlock)
            {
                int n = Math.Min(WordBlock, e - i0);
                PhiloxLanes.Word0(seed, offset + (ulong)i0, words, n);
                float* xs = xp + i0, ys = yp + i0;
                int j = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var pv = Vector256.Create(p);
                    var scaleV = Vector256.Create(scale);
                    var unit = Vector256.Create(Philox.UniformUnit);
                    for (; j + 8 <= n; j += 8)
                    {
                        var u = Vector256.ConvertToSingle((Vector256.Load(words + j) >>> 8).AsInt32()) * unit;
                        var keep = Vector256.GreaterThanOrEqual(u, pv);
                        Vector256.Store(Vector256.ConditionalSelect(keep, Vector256.Load(xs + j) * scaleV, Vector256<float>.Zero), ys + j);
                    }
                }
                for (; j < n; j++) ys[j] = Philox.UniformFromWord(words[j]) >= p ? xs[j] * scale : 0f;
            }
        });
    }
}
