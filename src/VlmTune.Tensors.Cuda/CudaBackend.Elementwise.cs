using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

// Elementwise family: unary functions and their backward, binary ops over broadcast views. Any float dtype and any
// strides on every operand (the Ops layer passes contiguous f32 outputs; broadcast inputs have stride 0).
public sealed partial class CudaBackend
{
    Action<KernelConfig, KTensor, KTensor, int, float, int>? _unary;
    Action<KernelConfig, KTensor, KTensor, KTensor, KTensor, int, float, int>? _unaryBackward;
    Action<KernelConfig, KTensor, KTensor, KTensor, int, int>? _binary;

    public void Unary(UnaryOp op, Tensor x, Tensor y, float scalar = 0f)
    {
        SameShapeFloat("unary " + op, y, x);
        if (y.Numel == 0) return;
        _unary ??= Accelerator.LoadStreamKernel<KTensor, KTensor, int, float, int>(ElementwiseKernels.Unary);
        _unary(Grid(y.Numel), K(x), K(y), (int)op, scalar, DenseBits(x, y));
        KeepAlive(x, y);
    }

    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float scalar = 0f)
    {
        SameShapeFloat("unary backward " + op, dx, x, y, dy);
        if (dx.Numel == 0) return;
        _unaryBackward ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, KTensor, int, float, int>(ElementwiseKernels.UnaryBackward);
        _unaryBackward(Grid(dx.Numel), K(x), K(y), K(dy), K(dx), (int)op, scalar, DenseBits(x, y, dy, dx));
        KeepAlive(x, y, dy, dx);
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        SameShapeFloat("binary " + op, y, a, b);
        if (y.Numel == 0) return;
        _binary ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, int, int>(ElementwiseKernels.Binary);
        _binary(Grid(y.Numel), K(a), K(b), K(y), (int)op, DenseBits(a, b, y));
        KeepAlive(a, b, y);
    }

    /// <summary>Bit k set when operand k is row-major contiguous (the kernels then index it directly).</summary>
    static int DenseBits(params Tensor[] operands)
    {
        int bits = 0;
        for (int k = 0; k < operands.Length; k++) if (operands[k].IsContiguous) bits |= 1 << k;
        return bits;
    }

    /// <summary>
    /// Keeps the operands reachable until their kernel is queued: a kernel view holds the device buffer, not the
    /// storage, and a storage finalized mid-call would return its block to the cache while this launch still needs it
    /// (another thread could then be handed, and overwrite, the block first).
    /// </summary>
    static void KeepAlive(params Tensor[] operands) => GC.KeepAlive(operands);

    /// <summary>Every operand has <paramref name="output"/>'s shape and a float dtype.</summary>
    static void SameShapeFloat(string what, Tensor output, params Tensor[] inputs)
    {
        if (!output.DType.IsFloat()) throw new ShapeException($"{what}: output is {output.DType.Name()}, not a float dtype");
        foreach (var t in inputs)
        {
            if (t.Shape != output.Shape) throw new ShapeException($"{what}: operand {t.Shape} for output {output.Shape}");
            if (!t.DType.IsFloat()) throw new ShapeException($"{what}: operand is {t.DType.Name()}, not a float dtype");
        }
    }
}
