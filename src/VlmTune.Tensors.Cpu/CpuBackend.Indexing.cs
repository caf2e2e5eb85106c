namespace VlmTune.Tensors.Cpu;

// Embedding rows and torch.gather, with their scatter-add backwards (accumulated, sequential: no races).
public sealed unsafe partial class CpuBackend
{
    public void Embedding(Tensor ids, Tensor weight, Tensor y)
    {
        using var keep = Hold(ids, weight, y);
        var (v, c) = weight.Shape.Dims2();
        long n = ids.Numel;
        Par.For((int)n, 16, Threads, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                long id = Index(ids, r);
                if ((ulong)id >= (ulong)v) throw new ShapeException($"embedding: id {id} at position {r} is outside the vocabulary of {v}");
                CopyRun(weight, weight.Offset + id * c, 1, y, y.Offset + (long)r * c, 1, c);
            }
        });
    }

    public void EmbeddingBackward(Tensor ids, Tensor dy, Tensor dw)
    {
        using var keep = Hold(ids, dy, dw);
        var (v, c) = dw.Shape.Dims2();
        float* g = F(dy), d = F(dw);
        for (long r = 0; r < ids.Numel; r++)
        {
            long id = Index(ids, r);
            if ((ulong)id >= (ulong)v) throw new ShapeException($"embedding: id {id} is outside the vocabulary of {v}");
            System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(d + id * c, c), new ReadOnlySpan<float>(g + r * c, c), new Span<float>(d + id * c, c));
        }
    }

    public void Gather(Tensor x, int axis, Tensor index, Tensor y) => GatherScatter(x, axis, index, y, scatter: false);

    public void ScatterAdd(Tensor dy, int axis, Tensor index, Tensor dx) => GatherScatter(dx, axis, index, dy, scatter: true);

    /// <summary>gather: small[i] = big[i with axis coord = index[i]]; scatter: big[...] += small[i].</summary>
    static void GatherScatter(Tensor big, int axis, Tensor index, Tensor small, bool scatter)
    {
        int rank = index.Rank;
        var bs = big.Shape.ContiguousStrides();
        int axisSize = big.Shape.Dims[axis];
        float* bp = F(big), sp = F(small);
        var idx = new int[rank];
        for (long e = 0; e < index.Numel; e++)
        {
            long at = Index(index, e);
            if (at < 0 || at >= axisSize) throw new ShapeException($"gather: index {at} is out of range for axis {axis} of size {axisSize}");
            long off = 0;
            for (int a = 0; a < rank; a++) off += (a == axis ? at : idx[a]) * bs[a];
            if (scatter) bp[off] += sp[e];
            else sp[e] = bp[off];
            for (int a = rank - 1; a >= 0; a--)
            {
                if (++idx[a] < index.Shape.Dims[a]) break;
                idx[a] = 0;
            }
        }
    }
}
