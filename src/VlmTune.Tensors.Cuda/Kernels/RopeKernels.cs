using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

// Rotary embedding, HF Llama convention (rotate_half: pairs (i, i + D/2), not interleaved), as the CPU backend:
// angle = f32(pos)·invFreq[i] in f32, invFreq[i] = f32(1/θ^(2i/D)) computed on the host in double; cos and sin of the
// f32 angle in double, rounded to f32. y[i] = x[i]·cos − x[i+D/2]·sin, y[i+D/2] = x[i+D/2]·cos + x[i]·sin; the backward
// (inverse) rotates by −angle. x, y: (B,H,T,D), any strides, f32 or bf16; positions: i32/i64 (T) or (B,T).
public static class RopeKernels
{
    /// <summary>One thread per (b, t, i) pair (i fastest: coalesced), looping over the heads with one sin/cos.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void Rope(KTensor x, KTensor positions, ArrayView<float> invFreq, KTensor y, float sign)
    {
        long b = x.Shape.A0, h = x.Shape.A1, t = x.Shape.A2, half = x.Shape.A3 / 2;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long item = Grid.GlobalIndex.X; item < b * t * half; item += stride)
        {
            long i = item % half, bt = item / half;
            long ti = bt % t, bi = bt / t;
            long pe = positions.Rank == 2
                ? positions.Offset + bi * positions.Strides.A0 + ti * positions.Strides.A1
                : positions.Offset + ti * positions.Strides.A0;
            float angle = (float)positions.LoadInt(pe) * invFreq[i];
            var sc = KMath.SinCos(angle);
            float cos = (float)sc.Cos, sin = sign * (float)sc.Sin;
            long xa = x.Offset + bi * x.Strides.A0 + ti * x.Strides.A2 + i * x.Strides.A3, xc = xa + half * x.Strides.A3;
            long ya = y.Offset + bi * y.Strides.A0 + ti * y.Strides.A2 + i * y.Strides.A3, yc = ya + half * y.Strides.A3;
            for (long hi = 0; hi < h; hi++)
            {
                float a = x.Load(xa + hi * x.Strides.A1), c = x.Load(xc + hi * x.Strides.A1);
                y.Store(ya + hi * y.Strides.A1, a * cos - c * sin);
                y.Store(yc + hi * y.Strides.A1, c * cos + a * sin);
            }
        }
    }
}
