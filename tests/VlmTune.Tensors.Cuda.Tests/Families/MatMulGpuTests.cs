using VlmTune.Tensors.Cuda.Tests.Support;
using O = VlmTune.Tensors.Ops;

namespace VlmTune.Tensors.Cuda.Tests.Families;

/// <summary>
/// cuBLAS on a real GPU against the CPU backend. These run only where <see cref="CudaProbe"/> finds a usable GPU
/// (never on CI or the development machines, which have none: there each test returns at once); on a GPU machine
/// they check GemmEx, GemmStridedBatchedEx (stride-0 broadcast) and cublasLtMatmul end to end.
/// </summary>
public class MatMulGpuTests
{
    static readonly Lazy<CudaBackend?> _gpu = new(() =>
        CudaProbe.Probe().Usable ? CudaBackend.Create(new CudaBackendOptions { Log = Console.WriteLine }) : null);

    static void Compare(CudaBackend gpu, int batch, int ba, int bb, int m, int n, int k, bool ta, bool tb, DType ab, DType cT,
        bool accumulate, Action<Tensor, Tensor, Tensor>? run = null)
    {
        var a = O.ToDType(Sim.Rand(1, ba, ta ? k : m, ta ? m : k), ab);
        var b = O.ToDType(Sim.Rand(2, bb, tb ? n : k, tb ? k : n), ab);
        var c = O.ToDType(Sim.Rand(3, batch, m, n), cT);
        var cc = O.ToDType(c, DType.F32).To(Sim.Cpu);
        cc.Backend.MatMul(O.ToDType(a, DType.F32).To(Sim.Cpu), ta, (ab == DType.BF16 ? b : O.ToDType(b, DType.F32)).To(Sim.Cpu), tb, cc, 0.5f, accumulate);
        var ad = a.To(gpu.AsDevice());
        var bd = b.To(gpu.AsDevice());
        var cd = c.To(gpu.AsDevice());
        if (run != null) run(ad, bd, cd);
        else gpu.MatMul(ad, ta, bd, tb, cd, 0.5f, accumulate);
        var expected = O.ToDType(cc, cT).ToFloatArray();
        float rtol = cT == DType.F32 ? 1e-5f : 1f / 128, atol = cT == DType.F32 ? 1e-6f * k : 1f / 128;
        Close.Equal(expected, cd.ToFloatArray(), rtol, atol, $"gpu {batch}x({ba},{bb}) {m}x{n}x{k} ta={ta} tb={tb} {ab.Name()}→{cT.Name()}");
    }

    [Fact]
    public void Cublas_matches_cpu_when_a_gpu_is_present()
    {
        if (_gpu.Value is not { } gpu) return;
        Assert.StartsWith("cublas", gpu.GemmProviderName);
        Compare(gpu, 1, 1, 1, 65, 33, 129, false, true, DType.F32, DType.F32, false);
        Compare(gpu, 3, 3, 1, 17, 65, 33, true, false, DType.F32, DType.F32, true);   // strided batch, b broadcast
        Compare(gpu, 3, 1, 3, 17, 5, 9, false, true, DType.BF16, DType.BF16, true);   // a broadcast, bf16 out
        Compare(gpu, 2, 2, 2, 256, 384, 512, false, false, DType.BF16, DType.F32, false);
        Compare(gpu, 1, 1, 1, 31, 47, 63, true, true, DType.F16, DType.F16, false);
    }

    [Fact]
    public void Cublas_lt_matches_cpu_when_a_gpu_is_present()
    {
        if (_gpu.Value is not { } gpu) return;
        using var lt = new CublasGemm(gpu, CudaRuntime.Cublas.Library!, useLt: true);
        foreach (var (m, n, k, ta, tb, ab, cT) in new[] { (65, 33, 129, false, true, DType.F32, DType.F32), (128, 64, 256, true, false, DType.BF16, DType.BF16) })
            Compare(gpu, 1, 1, 1, m, n, k, ta, tb, ab, cT, true, (a, b, c) => lt.Run(new GemmCall(ta, tb, m, n, k, 0.5f, true, 1,
                CudaBackend.StorageOf(a), a.Offset, 0, ab, CudaBackend.StorageOf(b), b.Offset, 0, ab, CudaBackend.StorageOf(c), c.Offset, 0, cT)));
    }
}
