namespace VlmTune.Tensors.Cuda;

// Norms family (stubs until its kernels land).
public sealed partial class CudaBackend
{
    public void LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps, Tensor y, Tensor mean, Tensor rstd)
        => throw new NotImplementedException("cuda backend: LayerNorm is not implemented yet");

    public void LayerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dy, Tensor dx, Tensor? dw, Tensor? db)
        => throw new NotImplementedException("cuda backend: LayerNormBackward is not implemented yet");

    public void RmsNorm(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd)
        => throw new NotImplementedException("cuda backend: RmsNorm is not implemented yet");

    public void RmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor? dw)
        => throw new NotImplementedException("cuda backend: RmsNormBackward is not implemented yet");

    public void Softmax(Tensor x, Tensor y, bool log)
        => throw new NotImplementedException("cuda backend: Softmax is not implemented yet");

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, bool log)
        => throw new NotImplementedException("cuda backend: SoftmaxBackward is not implemented yet");
}
