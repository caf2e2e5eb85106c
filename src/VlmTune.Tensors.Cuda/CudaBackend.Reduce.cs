using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

// Reduce family: Sum over any axes (double accumulation, deterministic), MaxLastAxis, CountValid. Inputs may have
// any strides and float dtype; labels i32/i64.
public sealed partial class CudaBackend
{
    Action<KernelConfig, KTensor, KTensor, KTensor, int>? _sumRows, _sumColumns, _maxLastAxis;
    Action<KernelConfig, KTensor, int, KTensor>? _countValid;

    public void Sum(Tensor x, bool[] reduce, Tensor y)
    {
        if (reduce.Length != x.Rank) throw new ShapeException($"sum: {reduce.Length} axis flags for shape {x.Shape}");
        for (int a = 0; a < x.Rank; a++)
            if (y.Rank != x.Rank || y.Shape.Dims[a] != (reduce[a] ? 1 : x.Shape.Dims[a]))
                throw new ShapeException($"sum: output {y.Shape} for {x.Shape} reduced over ({string.Join(",", reduce)})");
        if (!x.DType.IsFloat() || !y.DType.IsFloat()) throw new ShapeException($"sum: {x.DType.Name()} → {y.DType.Name()}, float dtypes only");
        if (y.Numel == 0) return;
        var (kept, red) = SplitAxes(x, reduce);
        // Group per output when the innermost (non-unit) axis is reduced, so a group reads consecutive elements; thread
        // per output when it is kept and there are enough outputs to fill a group (bias gradients: (N, C) → (1, C)).
        int inner = x.Rank - 1;
        while (inner >= 0 && x.Shape.Dims[inner] == 1) inner--;
        bool columns = inner >= 0 && !reduce[inner] && y.Numel >= GroupSize;
        if (columns)
        {
            _sumColumns ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, int>(ReduceKernels.SumColumns);
            _sumColumns(Grid(y.Numel), kept, red, K(y), DenseBits(y));
        }
        else
        {
            _sumRows ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, int>(ReduceKernels.SumRows);
            _sumRows(Rows(y.Numel), kept, red, K(y), DenseBits(y));
        }
        KeepAlive(x, y);
    }

    public void MaxLastAxis(Tensor x, Tensor y)
    {
        if (x.Rank == 0 || y.Shape != x.Shape.With(-1, 1)) throw new ShapeException($"max: output {y.Shape} for {x.Shape}");
        if (!x.DType.IsFloat() || !y.DType.IsFloat()) throw new ShapeException($"max: {x.DType.Name()} → {y.DType.Name()}, float dtypes only");
        if (y.Numel == 0) return;
        if (x.Shape[-1] == 0) throw new ShapeException($"max: empty last axis in {x.Shape}");
        var reduce = new bool[x.Rank];
        reduce[^1] = true;
        var (kept, red) = SplitAxes(x, reduce);
        _maxLastAxis ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, int>(ReduceKernels.MaxLastAxis);
        _maxLastAxis(WarpRows(y.Numel), kept, red, K(y), DenseBits(y));
        KeepAlive(x, y);
    }

    public void CountValid(Tensor labels, int ignoreIndex, Tensor count)
    {
        if (labels.DType is not (DType.I32 or DType.I64)) throw new ShapeException($"count: labels are {labels.DType.Name()}, not i32/i64");
        if (count.Numel != 1 || !count.DType.IsFloat()) throw new ShapeException($"count: output {count.Shape} {count.DType.Name()}, expected one float");
        Contig(count, "count output");
        _countValid ??= Accelerator.LoadStreamKernel<KTensor, int, KTensor>(ReduceKernels.CountValid);
        _countValid(Rows(1), K(labels), ignoreIndex, K(count));
        KeepAlive(labels, count);
    }

    /// <summary>
    /// Two views of x's storage: kept = x's axes where <paramref name="reduce"/> is false (x's offset), red = the
    /// reduced axes (offset 0); element (o, r) of the reduction is at kept.At(o) + red.At(r).
    /// </summary>
    static (KTensor kept, KTensor red) SplitAxes(Tensor x, bool[] reduce)
    {
        var kx = K(x);
        KTensor kept = kx, red = kx;
        kept.Rank = red.Rank = 0;
        kept.Shape = red.Shape = kept.Strides = red.Strides = default;
        kept.Numel = red.Numel = 1;
        red.Offset = 0;
        for (int a = 0; a < x.Rank; a++)
        {
            long d = x.Shape.Dims[a], s = x.Strides[a];
            if (reduce[a])
            {
                red.Shape.Set(red.Rank, d);
                red.Strides.Set(red.Rank++, s);
                red.Numel *= d;
            }
            else
            {
                kept.Shape.Set(kept.Rank, d);
                kept.Strides.Set(kept.Rank++, s);
                kept.Numel *= d;
            }
        }
        return (kept, red);
    }
}
