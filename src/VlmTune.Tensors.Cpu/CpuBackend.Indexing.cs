namespace VlmTune.Tensors.Cpu;

// Embedding rows and torch.gather, with their scatter-add backwards (accumulated, sequential: no races).
// Embedding converts rows straight from any float weight into any float output; the others widen bf16 to f32 scratch.
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
        var dw32 = Out(dw, true);
        EmbeddingBackwardF32(ids, W(dy), dw32);
        Store(dw32, dw);
    }

    void EmbeddingBackwardF32(Tensor ids, Tensor dy, Tensor dw)
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

    public void Gather(Tensor x, int axis, Tensor index, Tensor y)
    {
        var y32 = Out(y, false);
        GatherScatter(W(x), axis, index, y32, scatter: false);
        Store(y32, y);
    }

    public void ScatterAdd(Tensor dy, int axis, Tensor index, Tensor dx)
    {
        var dx32 = Out(dx, true);
        GatherScatter(dx32, axis, index, W(dy), scatter: true);
        Store(dx32, dx);
    }

    /// <summary>gather: small[i] = big[i with axis coord = index[i]]; scatter: big[...] += small[i] (f32 tensors).</summary>
    static void GatherScatter(Tensor big, int axis, Tensor index, Tensor small, bool scatter)
    {
        using var keep = Hold(big, index, small);
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
