namespace VlmTune.Tensors.Cuda;

// Elementwise family (stubs until its kernels land).
public sealed partial class CudaBackend
{
    public void Unary(UnaryOp op, Tensor x, Tensor y, float scalar = 0f)
        => throw new NotImplementedException("cuda backend: Unary is not implemented yet");

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float scalar = 0f)
        => throw new NotImplementedException("cuda backend: UnaryBackward is not implemented yet");

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
        => throw new NotImplementedException("cuda backend: Binary is not implemented yet");
}
