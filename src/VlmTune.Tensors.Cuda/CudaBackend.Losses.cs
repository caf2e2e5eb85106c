namespace VlmTune.Tensors.Cuda;

// Losses family (stubs until its kernels land).
public sealed partial class CudaBackend
{
    public void LabelLogProbs(Tensor logits, Tensor labels, int ignoreIndex, Tensor logp, Tensor lse)
        => throw new NotImplementedException("cuda backend: LabelLogProbs is not implemented yet");

    public void LabelLogProbsBackward(Tensor logits, Tensor labels, int ignoreIndex, Tensor lse, Tensor dlogp, Tensor dlogits)
        => throw new NotImplementedException("cuda backend: LabelLogProbsBackward is not implemented yet");
}
