using System.Diagnostics.CodeAnalysis;

namespace VlmTune.Tensors.Cpu;

// Mixed precision on the CPU: every kernel computes in f32. A public method widens each non-f32 float input to an
// f32 scratch copy (exact for bf16/f16), lets the f32 kernel write an f32 scratch output (pre-filled with the
// output's values when the kernel accumulates), and rounds that back into the real output (nearest even, through
// Copy). f32 tensors pass straight through: the f32 path allocates nothing and runs the same kernels as before.
public sealed unsafe partial class CpuBackend
{
    /// <summary>The f32 form of a float tensor: itself when f32 (or null), else a contiguous f32 copy.</summary>
    [return: NotNullIfNotNull(nameof(t))]
    Tensor? W(Tensor? t) => t == null || t.DType == DType.F32 ? t : Widened(t);

    /// <summary>
    /// The f32 tensor a kernel writes in place of <paramref name="t"/>: t itself when f32, else scratch — holding t's
    /// values when the kernel accumulates into it. Pair with <see cref="Store"/>.
    /// </summary>
    [return: NotNullIfNotNull(nameof(t))]
    Tensor? Out(Tensor? t, bool accumulate) => t == null || t.DType == DType.F32 ? t : accumulate ? Widened(t) : Scratch(t.Shape);

    /// <summary>Rounds a scratch result into its real output (nothing to do when the kernel wrote the output itself).</summary>
    void Store(Tensor? result, Tensor? t)
    {
        if (result != null && t != null && !ReferenceEquals(result, t)) Copy(result, t);
    }

    Tensor Widened(Tensor t)
    {
        if (!t.DType.IsFloat()) throw new ShapeException($"cpu backend: expected a float tensor, got {t.DType.Name()} {t.Shape}");
        var w = Scratch(t.Shape);
        Copy(t, w);
        return w;
    }

    Tensor Scratch(Shape shape) => new(Allocate(shape.Numel * sizeof(float), zeroed: false), shape, shape.ContiguousStrides(), 0, DType.F32);
}
