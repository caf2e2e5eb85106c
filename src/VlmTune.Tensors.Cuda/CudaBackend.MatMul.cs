using ILGPU;
using ILGPU.Runtime;

namespace VlmTune.Tensors.Cuda;

// MatMul family: the IBackend matmul as GemmCalls to the provider (cuBLAS on a GPU, an ILGPU kernel in simulation).
public sealed partial class CudaBackend
{
    readonly IGemmProvider _gemm;

    /// <summary>Who runs the GEMMs (for logs and `vlmtune env`).</summary>
    public string GemmProviderName => _gemm.Name;

    IGemmProvider CreateGemmProvider()
    {
        if (IsSimulated) return new IlgpuGemm(this);
        try
        {
            return CudaRuntime.CreateCublasProvider(this);
        }
        catch
        {
            // The constructor does not finish: release what it made (Dispose would not be called).
            _allocator.Dispose();
            Accelerator.Dispose();
            _context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// c[i] = (accumulate ? c[i] : 0) + alpha · op(a[i]) · op(b[i]) as <see cref="IBackend.MatMul"/> (rank 3, a batch
    /// of 1 in a or b broadcasts, transposes on the last two axes), for any float dtypes: a and b f32/bf16/f16, c
    /// f32/bf16/f16, accumulation in f32. c must be contiguous; a strided a or b is first copied (as is an operand
    /// whose dtype differs from the other's: both go to f32 then), and a c dtype the providers do not take with
    /// these inputs (f32 inputs into bf16) goes through an f32 scratch. So providers see one input dtype and dense
    /// operands (<see cref="GemmShape.IsSupported"/>).
    /// </summary>
    public void MatMul(Tensor a, bool transA, Tensor b, bool transB, Tensor c, float alpha, bool accumulate)
    {
        Contig(c, "matmul c");
        var (batch, m, n, k, ba, bb) = MatMulShape.Of(a, transA, b, transB, c);
        if (!IsGemmFloat(a.DType) || !IsGemmFloat(b.DType) || !IsGemmFloat(c.DType))
            throw new ShapeException($"matmul: a, b and c must be f32/bf16/f16, got {a.DType.Name()}, {b.DType.Name()} and {c.DType.Name()}");
        if (batch == 0 || m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate)
            {
                int size = c.DType.Size();
                StorageOf(c).View.SubView(c.Offset * size, c.Numel * size).MemSetToZero(Stream);
            }
            return;
        }

        var ab = a.DType == b.DType ? a.DType : DType.F32;
        var sa = Staged(a, ab);
        var sb = Staged(b, ab);
        Tensor? sc = null;
        if (!GemmShape.IsSupported(ab, c.DType))
        {
            sc = Ops.Empty(c.Shape, DType.F32, _device);
            if (accumulate) Copy(c, sc);
        }
        var ta = sa ?? a;
        var tb = sb ?? b;
        var tc = sc ?? c;
        var s = GemmShape.ForMatMul(batch, m, n, k, transA, transB, ba != 1, bb != 1, alpha, accumulate, ab, tc.DType);
        _gemm.Run(new GemmCall(s.TransA, s.TransB, s.M, s.N, s.K, s.Alpha, s.Accumulate, s.Batch,
            StorageOf(ta), ta.Offset, s.AStride, ab,
            StorageOf(tb), tb.Offset, s.BStride, ab,
            StorageOf(tc), tc.Offset, s.CStride, tc.DType));
        if (sc != null)
        {
            Copy(sc, c);
            sc.Storage.Dispose();
        }
        // Scratch blocks go back to the cache now: any later user is queued after this GEMM on the same stream.
        sa?.Storage.Dispose();
        sb?.Storage.Dispose();
    }

    static bool IsGemmFloat(DType t) => t is DType.F32 or DType.BF16 or DType.F16;

    /// <summary>A dense copy of <paramref name="t"/> in <paramref name="dtype"/>, or null when t is already that.</summary>
    Tensor? Staged(Tensor t, DType dtype)
    {
        if (t.DType == dtype && t.IsContiguous) return null;
        var s = Ops.Empty(t.Shape, dtype, _device);
        Copy(t, s);
        return s;
    }
}
