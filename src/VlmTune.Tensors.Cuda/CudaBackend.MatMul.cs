namespace VlmTune.Tensors.Cuda;

// MatMul family: the IBackend matmul as GemmCalls to the provider (cuBLAS on a GPU, an ILGPU kernel in simulation).
public sealed partial class CudaBackend
{
    readonly IGemmProvider _gemm;

    /// <summary>Who runs the GEMMs (for logs and `vlmtune env`).</summary>
    public string GemmProviderName => _gemm.Name;

    IGemmProvider CreateGemmProvider() => new MissingGemm();

    sealed class MissingGemm : IGemmProvider
    {
        public string Name => "none";
        public void Run(in GemmCall call) => throw new NotImplementedException("cuda backend: no GEMM provider yet");
    }

    public void MatMul(Tensor a, bool transA, Tensor b, bool transB, Tensor c, float alpha, bool accumulate)
        => throw new NotImplementedException("cuda backend: MatMul is not implemented yet");
}
