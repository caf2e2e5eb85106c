namespace VlmTune.Tensors.Cuda;

// Optim family (stubs until its kernels land).
public sealed partial class CudaBackend
{
    public void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step)
        => throw new NotImplementedException("cuda backend: AdamW is not implemented yet");

    public void SumSquares(Tensor x, Tensor acc)
        => throw new NotImplementedException("cuda backend: SumSquares is not implemented yet");

    public void ClipScale(Tensor x, Tensor sumSquares, float maxNorm)
        => throw new NotImplementedException("cuda backend: ClipScale is not implemented yet");
}
