using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

// Memory family: strided/broadcast copy with dtype conversion, fill.
public sealed partial class CudaBackend
{
    Action<KernelConfig, KTensor, KTensor, int>? _copy;
    Action<KernelConfig, ArrayView<float>, float>? _fill;

    public void Copy(Tensor source, Tensor destination)
    {
        if (source.Shape != destination.Shape) throw new ShapeException($"copy: {source.Shape} into {destination.Shape}");
        if (source.Numel == 0) return;
        bool intPath = !source.DType.IsFloat() && !destination.DType.IsFloat();
        _copy ??= Accelerator.LoadStreamKernel<KTensor, KTensor, int>(CopyKernels.Copy);
        _copy(Grid(destination.Numel), K(source), K(destination), intPath ? 1 : 0);
    }

    public void Fill(Tensor destination, float value)
    {
        Contig(destination, "fill destination");
        if (destination.DType != DType.F32) throw new ShapeException($"fill: f32 only, got {destination.DType.Name()}");
        if (destination.Numel == 0) return;
        _fill ??= Accelerator.LoadStreamKernel<ArrayView<float>, float>(CopyKernels.Fill);
        _fill(Grid(destination.Numel), View<float>(destination), value);
    }
}
