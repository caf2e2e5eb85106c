using ILGPU;
using ILGPU.Runtime;

namespace VlmTune.Tensors.Cuda;

/// <summary>Finds the driver and a GPU and creates ILGPU's CUDA accelerator (real GPUs only).</summary>
internal static class CudaRuntime
{
    public static (Context, Accelerator) CreateAccelerator(CudaBackendOptions options)
        => throw new CudaUnavailableException("no CUDA GPU support is built in yet");
}
