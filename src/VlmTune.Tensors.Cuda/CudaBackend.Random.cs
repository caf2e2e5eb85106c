namespace VlmTune.Tensors.Cuda;

// Random family (stubs until its kernels land).
public sealed partial class CudaBackend
{
    public void RandomUniform(Tensor destination, ulong seed, ulong offset, float low, float high)
        => throw new NotImplementedException("cuda backend: RandomUniform is not implemented yet");

    public void RandomNormal(Tensor destination, ulong seed, ulong offset, float mean, float std)
        => throw new NotImplementedException("cuda backend: RandomNormal is not implemented yet");

    public void Dropout(Tensor x, float p, ulong seed, ulong offset, Tensor y)
        => throw new NotImplementedException("cuda backend: Dropout is not implemented yet");
}
