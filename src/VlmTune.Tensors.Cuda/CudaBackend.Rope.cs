namespace VlmTune.Tensors.Cuda;

// Rope family (stubs until its kernels land).
public sealed partial class CudaBackend
{
    public void Rope(Tensor x, Tensor positions, float theta, Tensor y, bool inverse)
        => throw new NotImplementedException("cuda backend: Rope is not implemented yet");
}
