namespace VlmTune.Tensors.Cuda;

// Attention family (stubs until its kernels land).
public sealed partial class CudaBackend
{
    public void Attention(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse)
        => throw new NotImplementedException("cuda backend: Attention is not implemented yet");

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse, Tensor dO, Tensor dq, Tensor dk, Tensor dv)
        => throw new NotImplementedException("cuda backend: AttentionBackward is not implemented yet");
}
