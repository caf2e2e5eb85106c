using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

/// <summary>
/// The simulator's GEMM provider: <see cref="GemmKernels.Gemm"/> (a register-tiled ILGPU kernel) on the backend's
/// stream. It accepts exactly what cuBLAS accepts (<see cref="GemmShape.IsSupported"/>) so the two providers see the
/// same calls.
/// </summary>
internal sealed class IlgpuGemm(CudaBackend backend) : IGemmProvider
{
    Action<KernelConfig, GemmParams>? _kernel;

    public string Name => "ilgpu-gemm (simulated cuBLAS)";

    public void Run(in GemmCall call)
    {
        if (!GemmShape.IsSupported(call.AType, call.CType) || call.BType != call.AType)
            throw new ShapeException($"gemm: {call.AType.Name()}·{call.BType.Name()} → {call.CType.Name()} is not a provider combination");
        if (call.M == 0 || call.N == 0 || call.Batch == 0) return;
        var p = Params(call);
        long tiles = (long)((call.M + GemmKernels.Tile - 1) / GemmKernels.Tile) * ((call.N + GemmKernels.Tile - 1) / GemmKernels.Tile) * call.Batch;
        _kernel ??= backend.Accelerator.LoadStreamKernel<GemmParams>(GemmKernels.Gemm);
        _kernel(backend.Grid(tiles), p);
    }

    /// <summary>The kernel's strides for a dense row-major call (transposes become swapped row/column strides).</summary>
    internal static GemmParams Params(in GemmCall call) => new()
    {
        A = call.A.View, B = call.B.View, C = call.C.View,
        AOffset = call.AOffset, ABatch = call.AStride,
        ARow = call.TransA ? 1 : call.K, ACol = call.TransA ? call.M : 1,
        BOffset = call.BOffset, BBatch = call.BStride,
        BRow = call.TransB ? 1 : call.N, BCol = call.TransB ? call.K : 1,
        COffset = call.COffset, CBatch = call.CStride, CRow = call.N,
        M = call.M, N = call.N, K = call.K, Batch = call.Batch,
        AType = (int)call.AType, BType = (int)call.BType, CType = (int)call.CType,
        Alpha = call.Alpha, Accumulate = call.Accumulate ? 1 : 0,
    };
}
