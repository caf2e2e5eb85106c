namespace VlmTune.Tensors.Cuda;

// Quant4Bit family (stubs until its kernels land).
public sealed partial class CudaBackend
{
    public void MatMul4Bit(Tensor x, Quantization.Packed4BitWeight w, Tensor y, bool accumulate)
        => throw new NotImplementedException("cuda backend: MatMul4Bit is not implemented yet");

    public void MatMul4BitInputGrad(Tensor dy, Quantization.Packed4BitWeight w, Tensor dx)
        => throw new NotImplementedException("cuda backend: MatMul4BitInputGrad is not implemented yet");

    public void Dequantize4Bit(Quantization.Packed4BitWeight w, Tensor destination)
        => throw new NotImplementedException("cuda backend: Dequantize4Bit is not implemented yet");
}
