using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

// Memory family: strided copy with dtype conversion, fill. Grid-stride loops over the destination's elements.
public static class CopyKernels
{
    /// <summary>dst[i] = src[i] for row-major linear i of the (common) shape; intPath copies integers exactly.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void Copy(KTensor src, KTensor dst, int intPath)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < dst.Numel; i += stride)
        {
            if (intPath != 0) dst.StoreInt(dst.At(i), src.LoadInt(src.At(i)));
            else dst.Store(dst.At(i), src.Load(src.At(i)));
        }
    }

    /// <summary>y[i] = value over a contiguous f32 view.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void Fill(ArrayView<float> y, float value)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < y.Length; i += stride) y[i] = value;
    }
}
