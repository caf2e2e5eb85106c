using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

// Optimiser family: fused AdamW (bit-identical to the CPU backend), Σx² accumulated into a device scalar
// (deterministic two-pass reduction), and the global-norm clipping scale read on the device.
public sealed partial class CudaBackend
{
    Action<KernelConfig, KTensor, KTensor, KTensor, KTensor, float, float, float, float, float, float, float, int>? _adamW;
    Action<KernelConfig, KTensor, ArrayView<double>, int>? _sumSquaresPartials;
    Action<KernelConfig, ArrayView<double>, int, KTensor>? _sumSquaresFinish;
    Action<KernelConfig, KTensor, KTensor, float, int>? _clipScale;

    public void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep st)
    {
        SameShapeFloat("adamw", param, grad, m, v);
        if (param.Numel == 0) return;
        // the CPU backend's constants, computed the same way
        double bc1 = 1 - Math.Pow(st.Beta1, st.Step), bc2 = 1 - Math.Pow(st.Beta2, st.Step);
        float stepSize = (float)(st.Lr / bc1), bc2Sqrt = (float)Math.Sqrt(bc2);
        float decay = 1f - st.Lr * st.WeightDecay;
        _adamW ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, KTensor, float, float, float, float, float, float, float, int>(OptimKernels.AdamW);
        _adamW(Grid(param.Numel), K(param), K(grad), K(m), K(v), decay, 1f - st.Beta1, st.Beta2, 1f - st.Beta2,
            stepSize, bc2Sqrt, st.Eps, DenseBits(param, grad, m, v));
        KeepAlive(param, grad, m, v);
    }

    public void SumSquares(Tensor x, Tensor acc)
    {
        SameShapeFloat("sum of squares", acc);
        SameShapeFloat("sum of squares", x);
        if (acc.Numel != 1) throw new ShapeException($"sum of squares: accumulator {acc.Shape}, expected one element");
        if (x.Numel == 0) return;
        var grid = Grid(x.Numel);
        int groups = grid.GridDim.X;
        // Per-call partials from the caching allocator: returned at once, reused only by work queued after this.
        using var partials = (CudaStorage)Allocate(groups * sizeof(double), zeroed: false);
        var view = partials.View.Cast<double>().SubView(0, groups);
        _sumSquaresPartials ??= Accelerator.LoadStreamKernel<KTensor, ArrayView<double>, int>(OptimKernels.SumSquaresPartials);
        _sumSquaresFinish ??= Accelerator.LoadStreamKernel<ArrayView<double>, int, KTensor>(OptimKernels.SumSquaresFinish);
        _sumSquaresPartials(grid, K(x), view, DenseBits(x));
        _sumSquaresFinish(Rows(1), view, groups, K(acc));
        KeepAlive(x, acc);
    }

    public void ClipScale(Tensor x, Tensor sumSquares, float maxNorm)
    {
        SameShapeFloat("clip", x);
        SameShapeFloat("clip", sumSquares);
        if (sumSquares.Numel != 1) throw new ShapeException($"clip: sum of squares {sumSquares.Shape}, expected one element");
        if (x.Numel == 0) return;
        _clipScale ??= Accelerator.LoadStreamKernel<KTensor, KTensor, float, int>(OptimKernels.ClipScale);
        _clipScale(Grid(x.Numel), K(x), K(sumSquares), maxNorm, DenseBits(x));
        KeepAlive(x, sumSquares);
    }
}
