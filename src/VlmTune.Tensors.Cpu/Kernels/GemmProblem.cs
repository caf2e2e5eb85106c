namespace VlmTune.Tensors.Cpu.Kernels;

/// <summary>
/// One validated GEMM call, as the driver threads see it: C(M,N) = (Accumulate ? C : 0) + Alpha·op(A)·op(B).
/// Exactly one of <see cref="B"/> (f32) and <see cref="Bh"/> (bf16 bit patterns) is non-null.
/// </summary>
internal unsafe struct GemmProblem
{
    public bool TransA;
    public bool TransB;
    public int M;
    public int N;
    public int K;
    public float Alpha;
    public float* A;
    public int Lda;
    public float* B;
    public ushort* Bh;
    public int Ldb;
    public float* C;
    public int Ldc;
    public bool Accumulate;

    /// <summary>The micro-kernel for this call, read once so every thread packs and computes alike.</summary>
    public GemmKernelKind Kernel;
}
