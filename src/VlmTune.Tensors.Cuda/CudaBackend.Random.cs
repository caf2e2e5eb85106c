using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

// Random family: counter-based Philox4x32-10 fills and dropout, identical to the CPU backend's values.
public sealed partial class CudaBackend
{
    Action<KernelConfig, KTensor, ulong, ulong, float, float, int>? _randomUniform, _randomNormal;
    Action<KernelConfig, KTensor, KTensor, float, float, ulong, ulong, int>? _dropout;

    public void RandomUniform(Tensor destination, ulong seed, ulong offset, float low, float high)
    {
        SameShapeFloat("random uniform", destination);
        if (destination.Numel == 0) return;
        _randomUniform ??= Accelerator.LoadStreamKernel<KTensor, ulong, ulong, float, float, int>(RandomKernels.RandomUniform);
        _randomUniform(Grid(destination.Numel), K(destination), seed, offset, low, high, DenseBits(destination));
        KeepAlive(destination);
    }

    public void RandomNormal(Tensor destination, ulong seed, ulong offset, float mean, float std)
    {
        SameShapeFloat("random normal", destination);
        if (destination.Numel == 0) return;
        _randomNormal ??= Accelerator.LoadStreamKernel<KTensor, ulong, ulong, float, float, int>(RandomKernels.RandomNormal);
        _randomNormal(Grid(destination.Numel), K(destination), seed, offset, mean, std, DenseBits(destination));
        KeepAlive(destination);
    }

    public void Dropout(Tensor x, float p, ulong seed, ulong offset, Tensor y)
    {
        SameShapeFloat("dropout", y, x);
        if (y.Numel == 0) return;
        _dropout ??= Accelerator.LoadStreamKernel<KTensor, KTensor, float, float, ulong, ulong, int>(RandomKernels.Dropout);
        _dropout(Grid(y.Numel), K(x), K(y), p, 1f / (1f - p), seed, offset, DenseBits(x, y));
        KeepAlive(x, y);
    }
}
