using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

// Indexing family. N = number of ids, V = vocabulary, C = embedding width.
//   Embedding:          y (N, C) = w (V, C)[ids (N)]                      group per row
//   EmbeddingBackward:  dw (V, C) += dy (N, C) by ids (accumulated)       group per first occurrence of an id
//   Gather:             y[i] = x[i with axis coordinate index[i]]         thread per element
//   ScatterAdd:         dx[i with axis coordinate index[i]] += dy[i]      thread per line along the axis
// The backwards are deterministic and add in the CPU backend's order (rows in increasing order per destination), so
// they equal it bit for bit. Ids/indices outside their range cannot raise an error on the device: the forwards write
// NaN there (so the fault shows in the loss) and the backwards skip them.
public static class IndexingKernels
{
    /// <summary>Threads per group at most (shared memory for one flag per thread).</summary>
    public const int MaxGroupSize = 1024;

    /// <summary>y[n, :] = w[ids[n], :] (operand bits: 0 = ids, 1 = y).</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void Embedding(KTensor ids, KTensor w, KTensor y, long vocab, long c, int dense)
    {
        for (long n = Grid.IdxX; n < ids.Numel; n += Grid.DimX)
        {
            long id = ids.LoadInt(ElementwiseKernels.Elem(ids, dense, 0, n));
            bool ok = (ulong)id < (ulong)vocab;
            long row = w.Offset + id * w.Strides[0];
            for (long j = Group.IdxX; j < c; j += Group.DimX)
                y.Store(ElementwiseKernels.Elem(y, dense, 1, n * c + j), ok ? w.Load(row + j * w.Strides[1]) : float.NaN);
        }
    }

    /// <summary>
    /// dw[id, :] += Σ dy[m, :] over the rows m with ids[m] = id, in increasing m. One group per row n (launch
    /// <c>Rows(N)</c>); only the first row of each id does the work: it scans the later ids a group-wide chunk at a
    /// time (one flag per thread in shared memory) and adds the matching rows of dy, column per thread, in order.
    /// Operand bits: 0 = ids, 1 = dy, 2 = dw.
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void EmbeddingBackward(KTensor ids, KTensor dy, KTensor dw, long vocab, long c, int dense)
    {
        var flags = SharedMemory.Allocate<int>(MaxGroupSize);
        long count = ids.Numel;
        int tid = Group.IdxX, size = Group.DimX;
        for (long n = Grid.IdxX; n < count; n += Grid.DimX)
        {
            long id = ids.LoadInt(ElementwiseKernels.Elem(ids, dense, 0, n));
            if ((ulong)id >= (ulong)vocab) continue; // uniform across the group
            bool seen = false;
            for (long m0 = 0; m0 < n && !seen; m0 += size)
            {
                long m = m0 + tid;
                seen = Group.BarrierOr(m < n && ids.LoadInt(ElementwiseKernels.Elem(ids, dense, 0, m)) == id);
            }
            if (seen) continue; // an earlier row owns this id
            for (long m0 = n; m0 < count; m0 += size)
            {
                long m = m0 + tid;
                bool hit = m < count && ids.LoadInt(ElementwiseKernels.Elem(ids, dense, 0, m)) == id;
                flags[tid] = hit ? 1 : 0;
                if (Group.BarrierOr(hit))
                {
                    int chunk = (int)Math.Min(size, count - m0);
                    for (long j = tid; j < c; j += size)
                    {
                        long e = ElementwiseKernels.Elem(dw, dense, 2, id * c + j);
                        float acc = dw.Load(e);
                        for (int k = 0; k < chunk; k++)
                            if (flags[k] != 0) acc += dy.Load(ElementwiseKernels.Elem(dy, dense, 1, (m0 + k) * c + j));
                        dw.Store(e, acc);
                    }
                }
                Group.Barrier(); // flags are rewritten by the next chunk
            }
        }
    }

    /// <summary>
    /// y[i] = x[i with axis coordinate index[i]]. <paramref name="xLine"/> is x's storage seen with index's shape and
    /// x's strides, the axis stride set to 0 (so xLine.At(i) is the offset of i's other coordinates). Bits: 0 = index, 1 = y.
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void Gather(KTensor xLine, KTensor index, KTensor y, long axisSize, long axisStride, int dense)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < y.Numel; i += stride)
        {
            long at = index.LoadInt(ElementwiseKernels.Elem(index, dense, 0, i));
            bool ok = at >= 0 && at < axisSize;
            y.Store(ElementwiseKernels.Elem(y, dense, 1, i), ok ? xLine.Load(xLine.At(i) + at * axisStride) : float.NaN);
        }
    }

    /// <summary>
    /// dx[.. index[..j..] ..] += dy[..j..] along the axis, one thread per line (all coordinates but the axis'): lines
    /// write disjoint elements of dx and each adds in increasing j, so no atomics are needed. The three views have
    /// index's shape with the axis extent set to 1 (line l at view.At(l)); axis steps are passed apart.
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void ScatterAdd(KTensor dyLine, KTensor indexLine, KTensor dxLine, long length, long axisSize,
        long dyStep, long indexStep, long dxStep)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long l = Grid.GlobalIndex.X; l < indexLine.Numel; l += stride)
        {
            long gb = dyLine.At(l), ib = indexLine.At(l), xb = dxLine.At(l);
            for (long j = 0; j < length; j++)
            {
                long at = indexLine.LoadInt(ib + j * indexStep);
                if (at < 0 || at >= axisSize) continue;
                long e = xb + at * dxStep;
                dxLine.Store(e, dxLine.Load(e) + dyLine.Load(gb + j * dyStep));
            }
        }
    }
}
