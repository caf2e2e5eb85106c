using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

// Indexing family: embedding rows and torch.gather with their deterministic scatter-add backwards. Ids/indices
// i32/i64; tensors of any strides; weights f32/bf16/f16 (widened, rounded into y's dtype).
public sealed partial class CudaBackend
{
    Action<KernelConfig, KTensor, KTensor, KTensor, long, long, int>? _embedding, _embeddingBackward;
    Action<KernelConfig, KTensor, KTensor, KTensor, long, long, int>? _gather;
    Action<KernelConfig, KTensor, KTensor, KTensor, long, long, long, long, long>? _scatterAdd;

    public void Embedding(Tensor ids, Tensor weight, Tensor y)
    {
        var (v, c) = weight.Shape.Dims2();
        CheckEmbedding("embedding", ids, y, weight, v, c);
        if (y.Numel == 0) return;
        _embedding ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, long, long, int>(IndexingKernels.Embedding);
        _embedding(Rows(ids.Numel), K(ids), K(weight), K(y), v, c, DenseBits(ids, y));
        KeepAlive(ids, weight, y);
    }

    public void EmbeddingBackward(Tensor ids, Tensor dy, Tensor dw)
    {
        var (v, c) = dw.Shape.Dims2();
        CheckEmbedding("embedding backward", ids, dy, dw, v, c);
        if (dy.Numel == 0) return;
        if (GroupSize > IndexingKernels.MaxGroupSize) throw new InvalidOperationException($"embedding backward: groups of {GroupSize} > {IndexingKernels.MaxGroupSize}");
        _embeddingBackward ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, long, long, int>(IndexingKernels.EmbeddingBackward);
        _embeddingBackward(Rows(ids.Numel), K(ids), K(dy), K(dw), v, c, DenseBits(ids, dy, dw));
        KeepAlive(ids, dy, dw);
    }

    public void Gather(Tensor x, int axis, Tensor index, Tensor y)
    {
        CheckGather("gather", x, axis, index, y);
        if (y.Numel == 0) return;
        var xLine = LineView(x, index.Shape, axis, index.Shape.Dims[axis]);
        xLine.Strides.Set(axis, 0);
        _gather ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, long, long, int>(IndexingKernels.Gather);
        _gather(Grid(y.Numel), xLine, K(index), K(y), x.Shape.Dims[axis], x.Strides[axis], DenseBits(index, y));
        KeepAlive(x, index, y);
    }

    public void ScatterAdd(Tensor dy, int axis, Tensor index, Tensor dx)
    {
        CheckGather("scatter add", dx, axis, index, dy);
        if (dy.Numel == 0) return;
        var lines = index.Shape.With(axis, 1);
        _scatterAdd ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, long, long, long, long, long>(IndexingKernels.ScatterAdd);
        _scatterAdd(Grid(lines.Numel), LineView(dy, lines, axis, 1), LineView(index, lines, axis, 1), LineView(dx, lines, axis, 1),
            index.Shape.Dims[axis], dx.Shape.Dims[axis], dy.Strides[axis], index.Strides[axis], dx.Strides[axis]);
        KeepAlive(dy, index, dx);
    }

    /// <summary><paramref name="t"/>'s storage and strides seen with <paramref name="shape"/> (t's own extents may be larger).</summary>
    static KTensor LineView(Tensor t, Shape shape, int axis, int axisExtent)
    {
        var k = K(t);
        for (int a = 0; a < shape.Rank; a++) k.Shape.Set(a, a == axis ? axisExtent : shape.Dims[a]);
        k.Numel = shape.Numel / Math.Max(1, shape.Dims[axis]) * axisExtent;
        return k;
    }

    static void CheckEmbedding(string what, Tensor ids, Tensor rows, Tensor table, long v, long c)
    {
        if (ids.DType is not (DType.I32 or DType.I64)) throw new ShapeException($"{what}: ids are {ids.DType.Name()}, not i32/i64");
        if (!rows.DType.IsFloat() || !table.DType.IsFloat()) throw new ShapeException($"{what}: {rows.DType.Name()} rows, {table.DType.Name()} table: float dtypes only");
        if (rows.Numel != ids.Numel * c || rows.Rank == 0 || rows.Shape[-1] != c)
            throw new ShapeException($"{what}: rows {rows.Shape} for ids {ids.Shape} and table ({v}, {c})");
    }

    /// <summary>torch.gather's contract: index and small have one shape, big's rank; non-axis extents of index ≤ big's.</summary>
    static void CheckGather(string what, Tensor big, int axis, Tensor index, Tensor small)
    {
        if (index.DType is not (DType.I32 or DType.I64)) throw new ShapeException($"{what}: index is {index.DType.Name()}, not i32/i64");
        if (!big.DType.IsFloat() || !small.DType.IsFloat()) throw new ShapeException($"{what}: float dtypes only");
        if (axis < 0 || axis >= big.Rank || index.Rank != big.Rank || small.Shape != index.Shape)
            throw new ShapeException($"{what}: {big.Shape} on axis {axis} with index {index.Shape} and {small.Shape}");
        for (int a = 0; a < big.Rank; a++)
            if (a != axis && index.Shape.Dims[a] > big.Shape.Dims[a])
                throw new ShapeException($"{what}: index {index.Shape} exceeds {big.Shape} on axis {a}");
    }
}
