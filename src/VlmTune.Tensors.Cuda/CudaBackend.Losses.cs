using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

// Losses family: label log-probabilities over logits (N,V) and their backward (Kernels/LossKernels.cs).
public sealed partial class CudaBackend
{
    Action<KernelConfig, KTensor, ArrayView<float>, int, int>? _chunkStats;
    Action<KernelConfig, KTensor, KTensor, int, ArrayView<float>, int, KTensor, KTensor>? _rowLogProbs;
    Action<KernelConfig, KTensor, KTensor, int, KTensor, KTensor, KTensor, int, int>? _labelLogProbsBackward;

    /// <summary>Vocabulary entries per (row, chunk) work item: this many per thread of a group.</summary>
    const int VocabPerThread = 16;

    (int N, int V, int Chunk, int Chunks) LabelShapes(Tensor logits, Tensor labels, string op)
    {
        if (logits.Rank != 2) throw new ShapeException($"{op}: logits must be (N,V), got {logits.Shape}");
        var (n, v) = (logits.Shape[0], logits.Shape[1]);
        if (v == 0) throw new ShapeException($"{op}: logits {logits.Shape} have an empty vocabulary");
        if (labels.DType is not (DType.I32 or DType.I64) || labels.Numel != n)
            throw new ShapeException($"{op}: labels must be i32/i64 ({n}), got {labels.DType.Name()} {labels.Shape}");
        int chunk = GroupSize * VocabPerThread;
        return (n, v, chunk, (v + chunk - 1) / chunk);
    }

    /// <summary>
    /// Labels and per-row values may arrive in the batch's shape, e.g. labels (B,T) for logits (B·T,V), as the CPU
    /// backend allows (it reads them by linear index): view a contiguous one as (N).
    /// </summary>
    static Tensor Flat(Tensor t, int n) =>
        t.Rank == 1 || !t.IsContiguous || t.Numel != n ? t : new Tensor(t.Storage, new Shape(n), [1], t.Offset, t.DType);

    public void LabelLogProbs(Tensor logits, Tensor labels, int ignoreIndex, Tensor logp, Tensor lse)
    {
        var (n, _, chunk, chunks) = LabelShapes(logits, labels, "label_logprobs");
        (labels, logp, lse) = (Flat(labels, n), Flat(logp, n), Flat(lse, n));
        if (logp.Shape != new Shape(n) || lse.Shape != new Shape(n))
            throw new ShapeException($"label_logprobs: logp {logp.Shape} and lse {lse.Shape} must be ({n})");
        if (n == 0) return;
        long items = (long)n * chunks;
        using var scratch = new CudaStorage(_device, _allocator, 2 * items * sizeof(float));
        var partial = scratch.View.Cast<float>().SubView(0, 2 * items);
        _chunkStats ??= Accelerator.LoadStreamKernel<KTensor, ArrayView<float>, int, int>(LossKernels.ChunkStats);
        _rowLogProbs ??= Accelerator.LoadStreamKernel<KTensor, KTensor, int, ArrayView<float>, int, KTensor, KTensor>(LossKernels.RowLogProbs);
        var kl = K(logits);
        _chunkStats(Rows(items), kl, partial, chunk, chunks);
        _rowLogProbs(Grid(n), kl, K(labels), ignoreIndex, partial, chunks, K(logp), K(lse));
        // The scratch goes back to the allocator now: later users of the block run after these kernels (one stream).
    }

    public void LabelLogProbsBackward(Tensor logits, Tensor labels, int ignoreIndex, Tensor lse, Tensor dlogp, Tensor dlogits)
    {
        var (n, _, chunk, chunks) = LabelShapes(logits, labels, "label_logprobs_backward");
        (labels, lse, dlogp) = (Flat(labels, n), Flat(lse, n), Flat(dlogp, n));
        if (lse.Shape != new Shape(n) || dlogp.Shape != new Shape(n) || dlogits.Shape != logits.Shape)
            throw new ShapeException($"label_logprobs_backward: lse {lse.Shape}, dlogp {dlogp.Shape} must be ({n}) and dlogits {dlogits.Shape} {logits.Shape}");
        if (n == 0) return;
        _labelLogProbsBackward ??= Accelerator.LoadStreamKernel<KTensor, KTensor, int, KTensor, KTensor, KTensor, int, int>(LossKernels.LabelLogProbsBackward);
        _labelLogProbsBackward(Rows((long)n * chunks), K(logits), K(labels), ignoreIndex, K(lse), K(dlogp), K(dlogits), chunk, chunks);
    }
}
