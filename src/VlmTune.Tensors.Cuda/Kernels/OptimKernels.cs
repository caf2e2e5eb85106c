using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

// Optimiser family: fused AdamW, Σx² for global-norm clipping, and the clipping scale. AdamW repeats the CPU
// backend's float operations in its order (CpuBackend.Optim.cs); every product that feeds an add is MulRn/AddRn so
// a GPU cannot fuse it into an FMA, and the result equals the CPU's bit for bit. Σx² is deterministic: per-group
// partials in double (a fixed grid), then one group adds them in order.
public static class OptimKernels
{
    /// <summary>In place on p, m, v (operands 0–3 = p, g, m, v); constants computed on the host as the CPU does.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void AdamW(KTensor p, KTensor g, KTensor m, KTensor v, float decay, float oneMinusB1, float b2,
        float oneMinusB2, float stepSize, float bc2Sqrt, float eps, int dense)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < p.Numel; i += stride)
        {
            long pe = ElementwiseKernels.Elem(p, dense, 0, i), me = ElementwiseKernels.Elem(m, dense, 2, i), ve = ElementwiseKernels.Elem(v, dense, 3, i);
            float gi = g.Load(ElementwiseKernels.Elem(g, dense, 1, i));
            float pi = KMath.MulRn(p.Load(pe), decay);                                   // p *= decay
            float mi = m.Load(me);
            mi = KMath.AddRn(mi, KMath.MulRn(oneMinusB1, gi - mi));                      // m += (1 − b1)(g − m)
            float vi = KMath.AddRn(KMath.MulRn(b2, v.Load(ve)), KMath.MulRn(oneMinusB2 * gi, gi)); // v = b2 v + (1 − b2) g g
            pi -= stepSize * mi / (MathF.Sqrt(vi) / bc2Sqrt + eps);                      // p −= step·m / (√v / √bc2 + eps)
            p.Store(pe, pi);
            m.Store(me, mi);
            v.Store(ve, vi);
        }
    }

    /// <summary>partials[group] = Σ x² over the group's grid-stride share, in double (launch <c>Grid(n)</c>).</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void SumSquaresPartials(KTensor x, ArrayView<double> partials, int dense)
    {
        var scratch = SharedMemory.Allocate<double>(ReduceKernels.MaxWarpsPerGroup);
        long stride = (long)Grid.DimX * Group.DimX;
        double s = 0;
        for (long i = Grid.GlobalIndex.X; i < x.Numel; i += stride)
        {
            double xi = x.Load(ElementwiseKernels.Elem(x, dense, 0, i));
            s += xi * xi;
        }
        double total = ReduceKernels.GroupSum(s, scratch);
        if (Group.IsFirstThread) partials[Grid.IdxX] = total;
    }

    /// <summary>acc[0] += (float)Σ partials[0..count) (one group, launch <c>Rows(1)</c>).</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void SumSquaresFinish(ArrayView<double> partials, int count, KTensor acc)
    {
        var scratch = SharedMemory.Allocate<double>(ReduceKernels.MaxWarpsPerGroup);
        double s = 0;
        for (int i = Group.IdxX; i < count; i += Group.DimX) s += partials[i];
        double total = ReduceKernels.GroupSum(s, scratch);
        if (Grid.IdxX == 0 && Group.IsFirstThread) acc.Store(acc.Offset, acc.Load(acc.Offset) + (float)total);
    }

    /// <summary>x *= maxNorm / (√ss[0] + 1e-6) unless that is ≥ 1 (a NaN factor scales, as on the CPU).</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void ClipScale(KTensor x, KTensor sumSquares, float maxNorm, int dense)
    {
        float coef = maxNorm / (MathF.Sqrt(sumSquares.Load(sumSquares.Offset)) + 1e-6f);
        if (coef >= 1f) return;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < x.Numel; i += stride)
        {
            long e = ElementwiseKernels.Elem(x, dense, 0, i);
            x.Store(e, x.Load(e) * coef);
        }
    }
}
