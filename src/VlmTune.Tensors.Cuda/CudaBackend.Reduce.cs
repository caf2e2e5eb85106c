namespace VlmTune.Tensors.Cuda;

// Reduce family (stubs until its kernels land).
public sealed partial class CudaBackend
{
    public void Sum(Tensor x, bool[] reduce, Tensor y)
        => throw new NotImplementedException("cuda backend: Sum is not implemented yet");

    public void MaxLastAxis(Tensor x, Tensor y)
        => throw new NotImplementedException("cuda backend: MaxLastAxis is not implemented yet");

    public void CountValid(Tensor labels, int ignoreIndex, Tensor count)
        => throw new NotImplementedException("cuda backend: CountValid is not implemented yet");
}
