using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

// Rope family: rotary position embedding, HF Llama convention (Kernels/RopeKernels.cs). x, y: (B,H,T,D);
// positions: i32/i64 (T) or (B,T); inverse = the backward (rotation by −angle).
public sealed partial class CudaBackend
{
    Action<KernelConfig, KTensor, KTensor, ArrayView<float>, KTensor, float>? _rope;
    readonly Dictionary<(float Theta, int D), (CudaStorage Device, float[] Host)> _ropeFrequencies = new();

    public void Rope(Tensor x, Tensor positions, float theta, Tensor y, bool inverse)
    {
        if (x.Rank != 4) throw new ShapeException($"rope: x must be (B,H,T,D), got {x.Shape}");
        var (b, _, t, d) = x.Shape.Dims4();
        if (d % 2 != 0) throw new ShapeException($"rope: head size must be even, got {x.Shape}");
        if (y.Shape != x.Shape) throw new ShapeException($"rope: y {y.Shape} must be {x.Shape}");
        if (positions.DType is not (DType.I32 or DType.I64) || (positions.Shape != new Shape(t) && positions.Shape != new Shape(b, t)))
            throw new ShapeException($"rope: positions must be i32/i64 ({t}) or ({b},{t}), got {positions.DType.Name()} {positions.Shape}");
        if (x.Numel == 0) return;
        _rope ??= Accelerator.LoadStreamKernel<KTensor, KTensor, ArrayView<float>, KTensor, float>(RopeKernels.Rope);
        _rope(Grid((long)b * t * (d / 2)), K(x), K(positions), RopeFrequencies(theta, d), K(y), inverse ? -1f : 1f);
    }

    /// <summary>
    /// invFreq[i] = f32(1/θ^(2i/D)) in double, exactly as the CPU backend, uploaded once per (θ, D) and kept for the
    /// backend's lifetime. The host array is pinned and kept too, so the upload needs no synchronisation.
    /// </summary>
    ArrayView<float> RopeFrequencies(float theta, int d)
    {
        int half = d / 2;
        lock (_ropeFrequencies)
        {
            if (!_ropeFrequencies.TryGetValue((theta, d), out var f))
            {
                var host = GC.AllocateArray<float>(half, pinned: true);
                for (int i = 0; i < half; i++) host[i] = (float)(1.0 / Math.Pow(theta, (2.0 * i) / d));
                var storage = new CudaStorage(_device, _allocator, (long)half * sizeof(float));
                storage.View.Cast<float>().SubView(0, half).CopyFromCPU(Stream, ref host[0], half);
                _ropeFrequencies[(theta, d)] = f = (storage, host);
            }
            return f.Device.View.Cast<float>().SubView(0, half);
        }
    }
}
