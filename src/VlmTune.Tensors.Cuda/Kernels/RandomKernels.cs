using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

// Random family: Philox4x32-10 (src/VlmTune.Tensors/Philox.cs) — element i of a draw uses counter offset + i, so the
// values are the CPU backend's, bit for bit, in any launch geometry. Uniform: word 0; normal: Box–Muller from words
// 0 and 1 in double (KMath.Log/Cos, within an ulp of the CPU's libm, far below f32 rounding); the final affine step
// uses MulRn/AddRn so a GPU cannot fuse it into an FMA the CPU does not do.
public static class RandomKernels
{
    const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>Words 0 and 1 of the Philox block.</summary>
    public struct Words
    {
        public uint A, B;
    }

    public static Words Block(ulong seed, ulong counter)
    {
        uint c0 = (uint)counter, c1 = (uint)(counter >> 32), c2 = 0, c3 = 0;
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int r = 0; r < 10; r++)
        {
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0, n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint)p1;
            c3 = (uint)p0;
            c0 = n0;
            c2 = n2;
            k0 += W0;
            k1 += W1;
        }
        return new Words { A = c0, B = c1 };
    }

    /// <summary>Uniform in [0, 1) with 24 random bits (Philox.Uniform).</summary>
    public static float Uniform(ulong seed, ulong counter) => (Block(seed, counter).A >> 8) * (1f / 16777216f);

    /// <summary>Standard normal by Box–Muller (Philox.Normal).</summary>
    public static float Normal(ulong seed, ulong counter)
    {
        var w = Block(seed, counter);
        double u1 = ((w.A >> 8) + 1) * (1.0 / 16777217.0); // (0, 1]
        double u2 = (w.B >> 8) * (1.0 / 16777216.0);
        return (float)(Math.Sqrt(-2.0 * KMath.Log(u1)) * KMath.Cos(2.0 * Math.PI * u2));
    }

    /// <summary>y[i] = low + (high − low)·uniform(seed, offset + i).</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void RandomUniform(KTensor y, ulong seed, ulong offset, float low, float high, int dense)
    {
        float range = high - low;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < y.Numel; i += stride)
            y.Store(ElementwiseKernels.Elem(y, dense, 0, i), KMath.AddRn(low, KMath.MulRn(range, Uniform(seed, offset + (ulong)i))));
    }

    /// <summary>y[i] = mean + std·normal(seed, offset + i).</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void RandomNormal(KTensor y, ulong seed, ulong offset, float mean, float std, int dense)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < y.Numel; i += stride)
            y.Store(ElementwiseKernels.Elem(y, dense, 0, i), KMath.AddRn(mean, KMath.MulRn(std, Normal(seed, offset + (ulong)i))));
    }

    /// <summary>y[i] = uniform(seed, offset + i) ≥ p ? x[i]·scale : 0, scale = 1/(1 − p) (operands 0 = x, 1 = y).</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void Dropout(KTensor x, KTensor y, float p, float scale, ulong seed, ulong offset, int dense)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < y.Numel; i += stride)
        {
            bool keep = Uniform(seed, offset + (ulong)i) >= p;
            y.Store(ElementwiseKernels.Elem(y, dense, 1, i), keep ? x.Load(ElementwiseKernels.Elem(x, dense, 0, i)) * scale : 0f);
        }
    }
}
