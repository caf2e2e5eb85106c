namespace VlmTune.Tensors.Cuda;

// Indexing family (stubs until its kernels land).
public sealed partial class CudaBackend
{
    public void Embedding(Tensor ids, Tensor weight, Tensor y)
        => throw new NotImplementedException("cuda backend: Embedding is not implemented yet");

    public void EmbeddingBackward(Tensor ids, Tensor dy, Tensor dw)
        => throw new NotImplementedException("cuda backend: EmbeddingBackward is not implemented yet");

    public void Gather(Tensor x, int axis, Tensor index, Tensor y)
        => throw new NotImplementedException("cuda backend: Gather is not implemented yet");

    public void ScatterAdd(Tensor dy, int axis, Tensor index, Tensor dx)
        => throw new NotImplementedException("cuda backend: ScatterAdd is not implemented yet");
}
