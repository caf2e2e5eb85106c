using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

// Reduce family: sums over any set of axes, max over the last axis, count of valid labels; plus the group and
// warp reductions other kernels reuse. Sums accumulate in double (as the CPU backend) and are deterministic: a
// fixed launch gives each thread a fixed set of elements and the tree below adds them in a fixed order.
//
// A sum's input is described by two views of x's storage: `kept` (x's non-reduced axes, with x's offset) and `red`
// (the reduced axes, offset 0), so element (o, r) — output o, reduced index r — is at kept.At(o) + red.At(r).
public static class ReduceKernels
{
    /// <summary>Shared-memory slots for one value per warp: groups of ≤ 1024 threads, warps of ≥ 4.</summary>
    public const int MaxWarpsPerGroup = 256;

    /// <summary>Sum over the warp; every lane gets the same value (a + b = b + a bit for bit).</summary>
    public static double WarpSum(double v)
    {
        for (int o = Warp.WarpSize / 2; o > 0; o /= 2) v += Warp.ShuffleXor(v, o);
        return v;
    }

    /// <summary>Max over the warp (IEEE maximum: NaN wins, +0 beats −0); every lane gets it.</summary>
    public static float WarpMax(float v)
    {
        for (int o = Warp.WarpSize / 2; o > 0; o /= 2) v = KMath.Max(v, Warp.ShuffleXor(v, o));
        return v;
    }

    /// <summary>
    /// Sum over the group, returned to every thread: warp sums, then each thread adds the per-warp partials in warp
    /// order. Every thread of the group must call it (it has barriers); <paramref name="scratch"/> is shared memory
    /// of at least <see cref="MaxWarpsPerGroup"/> doubles, free again when it returns.
    /// </summary>
    public static double GroupSum(double v, ArrayView<double> scratch)
    {
        v = WarpSum(v);
        if (Warp.IsFirstLane) scratch[Warp.WarpIdx] = v;
        Group.Barrier();
        int warps = Group.DimX / Warp.WarpSize;
        double total = 0;
        for (int w = 0; w < warps; w++) total += scratch[w];
        Group.Barrier();
        return total;
    }

    /// <summary>One group per output (launch <c>Rows</c>): its threads stride over the reduced elements.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void SumRows(KTensor kept, KTensor red, KTensor y, int yDense)
    {
        var scratch = SharedMemory.Allocate<double>(MaxWarpsPerGroup);
        for (long o = Grid.IdxX; o < y.Numel; o += Grid.DimX)
        {
            long baseOff = kept.At(o);
            double acc = 0;
            for (long r = Group.IdxX; r < red.Numel; r += Group.DimX) acc += kept.Load(baseOff + red.At(r));
            double total = GroupSum(acc, scratch);
            if (Group.IsFirstThread) y.Store(ElementwiseKernels.Elem(y, yDense, 0, o), (float)total);
        }
    }

    /// <summary>One thread per output (launch <c>Grid</c>), adding its reduced elements in order: for sums whose
    /// innermost axis is kept, so that neighbouring threads read neighbouring elements.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void SumColumns(KTensor kept, KTensor red, KTensor y, int yDense)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long o = Grid.GlobalIndex.X; o < y.Numel; o += stride)
        {
            long baseOff = kept.At(o);
            double acc = 0;
            for (long r = 0; r < red.Numel; r++) acc += kept.Load(baseOff + red.At(r));
            y.Store(ElementwiseKernels.Elem(y, yDense, 0, o), (float)acc);
        }
    }

    /// <summary>y[row] = max over the last axis; one warp per row (launch <c>WarpRows</c>). Views as for sums.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void MaxLastAxis(KTensor kept, KTensor red, KTensor y, int yDense)
    {
        int warpsPerGroup = Group.DimX / Warp.WarpSize;
        long stride = (long)Grid.DimX * warpsPerGroup;
        for (long row = (long)Grid.IdxX * warpsPerGroup + Warp.WarpIdx; row < y.Numel; row += stride)
        {
            long baseOff = kept.At(row);
            float m = float.NegativeInfinity;
            for (long c = Warp.LaneIdx; c < red.Numel; c += Warp.WarpSize) m = KMath.Max(m, kept.Load(baseOff + red.At(c)));
            m = WarpMax(m);
            if (Warp.IsFirstLane) y.Store(ElementwiseKernels.Elem(y, yDense, 0, row), m);
        }
    }

    /// <summary>count[0] = number of labels ≠ ignoreIndex (one group, launch <c>Rows(1)</c>).</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void CountValid(KTensor labels, int ignoreIndex, KTensor count)
    {
        var scratch = SharedMemory.Allocate<double>(MaxWarpsPerGroup);
        long n = 0;
        for (long i = Group.IdxX; i < labels.Numel; i += Group.DimX)
            if (labels.LoadInt(labels.At(i)) != ignoreIndex) n++;
        double total = GroupSum(n, scratch);
        if (Grid.IdxX == 0 && Group.IsFirstThread) count.Store(count.Offset, (float)total);
    }
}
