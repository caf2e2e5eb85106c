using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using VlmTune.Tensors.Cuda.Native;

namespace VlmTune.Tensors.Cuda;

/// <summary>
/// The GPU's GEMM provider: cuBLAS on the backend's stream, with the call mapped to column-major arguments by
/// <see cref="CublasMapping.Map"/>. Batch 1 goes to cublasGemmEx, batches to cublasGemmStridedBatchedEx (stride 0
/// broadcasts); with <c>VLMTUNE_CUBLAS_LT=1</c> batch-1 calls go to cublasLtMatmul instead (plans cached per shape).
/// FP32 compute (CUBLAS_COMPUTE_32F, default math mode: no TF32), a 32 MiB workspace of our own.
/// </summary>
internal sealed unsafe class CublasGemm : IGemmProvider, IDisposable
{
    public const long WorkspaceBytes = 32L << 20;

    readonly CudaBackend _backend;
    readonly CublasLibrary _lib;
    readonly nint _stream;
    readonly MemoryBuffer1D<byte, Stride1D.Dense> _workspace;
    readonly Dictionary<CublasGemmArgs, LtPlan> _plans = new();
    nint _handle, _lt;
    bool _disposed;

    public CublasGemm(CudaBackend backend, CublasLibrary lib, bool useLt)
    {
        _backend = backend;
        _lib = lib;
        Bind();
        _stream = ((CudaStream)backend.Stream).StreamPtr;
        _handle = lib.CreateHandle();
        try
        {
            _workspace = backend.Accelerator.Allocate1D<byte>(WorkspaceBytes);
            // SetStream first: it resets a user workspace to the default pool.
            Check(lib.SetStream(_handle, _stream), "cublasSetStream_v2");
            Check(lib.SetWorkspace(_handle, _workspace.NativePtr, WorkspaceBytes), "cublasSetWorkspace_v2");
            Check(lib.SetMathMode(_handle, CublasConst.MathDefault), "cublasSetMathMode");
            if (useLt) Check(lib.LtCreate(out _lt), "cublasLtCreate");
        }
        catch
        {
            Dispose();
            throw;
        }
        lib.GetVersion(_handle, out int v);
        Name = $"cublas {lib.VersionText() ?? v.ToString()} ({(useLt ? "cublasLtMatmul + GemmStridedBatchedEx" : "GemmEx / GemmStridedBatchedEx")}, fp32 compute)";
    }

    public string Name { get; }

    public void Run(in GemmCall call)
    {
        if (!GemmShape.IsSupported(call.AType, call.CType) || call.BType != call.AType)
            throw new ShapeException($"gemm: {call.AType.Name()}·{call.BType.Name()} → {call.CType.Name()} is not a cuBLAS combination");
        if (call.M == 0 || call.N == 0 || call.Batch == 0) return;
        ObjectDisposedException.ThrowIf(_disposed, this);
        Bind();
        var g = CublasMapping.Map(call.Shape);
        nint pa = Address(call.A, call.AOffset, call.AType), pb = Address(call.B, call.BOffset, call.BType);
        nint first = g.First == GemmOperand.B ? pb : pa, second = g.First == GemmOperand.B ? pa : pb;
        nint pc = Address(call.C, call.COffset, call.CType);
        if (g.Batch == 1 && _lt != 0 && RunLt(g, first, second, pc)) return;
        if (g.Batch == 1) Check(_lib.GemmEx(_handle, g, first, second, pc), "cublasGemmEx");
        else Check(_lib.GemmStridedBatchedEx(_handle, g, first, second, pc), "cublasGemmStridedBatchedEx");
    }

    static nint Address(CudaStorage s, long elementOffset, DType t) => s.NativePtr + (nint)(elementOffset * t.Size());

    /// <summary>cuBLAS calls need the accelerator's context current on the calling thread.</summary>
    void Bind()
    {
        if (!ReferenceEquals(Accelerator.Current, _backend.Accelerator)) _backend.Accelerator.Bind();
    }

    bool RunLt(in CublasGemmArgs g, nint a, nint b, nint c)
    {
        var key = g with { Alpha = 0, Beta = g.Beta == 0 ? 0 : 1 };
        if (!_plans.TryGetValue(key, out var plan))
        {
            plan = LtPlan.Create(_lib, _lt, g, WorkspaceBytes);
            _plans[key] = plan;
        }
        if (plan.Algo == null) return false; // no heuristic answer: GemmEx instead
        Check(_lib.Matmul(_lt, plan.Desc, g.Alpha, a, plan.A, b, plan.B, g.Beta, c, plan.C, plan.Algo,
            _workspace.NativePtr, WorkspaceBytes, _stream), "cublasLtMatmul");
        return true;
    }

    void Check(int status, string call)
    {
        if (status != CublasConst.StatusSuccess) throw new CublasException(call, status);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { Bind(); } // cuBLAS frees its handle's resources in the current context
        catch (ObjectDisposedException) { }
        foreach (var p in _plans.Values) p.Dispose(_lib);
        _plans.Clear();
        if (_lt != 0) _lib.LtDestroy(_lt);
        if (_handle != 0) _lib.Destroy(_handle);
        _lt = _handle = 0;
        _workspace?.Dispose();
    }

    /// <summary>cuBLASLt descriptors, layouts and the heuristic's algorithm for one shape.</summary>
    sealed class LtPlan
    {
        public nint Desc, A, B, C;
        public LtHeuristicResult* Algo;

        public static LtPlan Create(CublasLibrary lib, nint lt, in CublasGemmArgs g, long workspace)
        {
            var p = new LtPlan();
            try
            {
                Build(lib, lt, g, workspace, p);
                return p;
            }
            catch
            {
                p.Dispose(lib);
                throw;
            }
        }

        /// <summary>The descriptor and layouts of <paramref name="g"/> (also used by the binding tests, no GPU needed).</summary>
        internal static void Describe(CublasLibrary lib, in CublasGemmArgs g, out nint desc, out nint a, out nint b, out nint c)
        {
            desc = a = b = c = 0;
            var l = CublasMapping.Layouts(g);
            Check(lib.MatmulDescCreate(out desc, g.ComputeType, CublasConst.R32F), "cublasLtMatmulDescCreate");
            Check(lib.MatmulDescSet(desc, CublasConst.LtDescTransA, g.TransA), "cublasLtMatmulDescSetAttribute(TRANSA)");
            Check(lib.MatmulDescSet(desc, CublasConst.LtDescTransB, g.TransB), "cublasLtMatmulDescSetAttribute(TRANSB)");
            Check(lib.LayoutCreate(out a, g.AType, l.ARows, l.ACols, l.Lda), "cublasLtMatrixLayoutCreate(A)");
            Check(lib.LayoutCreate(out b, g.BType, l.BRows, l.BCols, l.Ldb), "cublasLtMatrixLayoutCreate(B)");
            Check(lib.LayoutCreate(out c, g.CType, l.CRows, l.CCols, l.Ldc), "cublasLtMatrixLayoutCreate(C)");
            if (g.Batch > 1)
            {
                foreach (var (layout, stride) in new[] { (a, g.StrideA), (b, g.StrideB), (c, g.StrideC) })
                {
                    Check(lib.LayoutSet(layout, CublasConst.LtLayoutBatchCount, g.Batch), "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)");
                    Check(lib.LayoutSet(layout, CublasConst.LtLayoutStridedBatchOffset, stride), "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)");
                }
            }
        }

        static void Build(CublasLibrary lib, nint lt, in CublasGemmArgs g, long workspace, LtPlan p)
        {
            Describe(lib, g, out p.Desc, out p.A, out p.B, out p.C);
            Check(lib.PreferenceCreate(out var pref), "cublasLtMatmulPreferenceCreate");
            try
            {
                Check(lib.PreferenceSetMaxWorkspace(pref, (ulong)workspace), "cublasLtMatmulPreferenceSetAttribute");
                var result = (LtHeuristicResult*)NativeMemory.AllocZeroed((nuint)sizeof(LtHeuristicResult));
                int status = lib.AlgoGetHeuristic(lt, p.Desc, p.A, p.B, p.C, p.C, pref, result, out int returned);
                if (status == CublasConst.StatusSuccess && returned > 0 && result->State == CublasConst.StatusSuccess) p.Algo = result;
                else NativeMemory.Free(result);
            }
            finally
            {
                lib.PreferenceDestroy(pref);
            }
        }

        static void Check(int status, string call)
        {
            if (status != CublasConst.StatusSuccess) throw new CublasException(call, status);
        }

        public void Dispose(CublasLibrary lib)
        {
            if (Algo != null) NativeMemory.Free(Algo);
            Algo = null;
            if (A != 0) lib.LayoutDestroy(A);
            if (B != 0) lib.LayoutDestroy(B);
            if (C != 0) lib.LayoutDestroy(C);
            if (Desc != 0) lib.MatmulDescDestroy(Desc);
            Desc = A = B = C = 0;
        }
    }

    /// <summary>For the binding tests: builds and frees the cuBLASLt descriptors of a call (host-side; no GPU needed).</summary>
    internal static void DescribeLt(CublasLibrary lib, in CublasGemmArgs g, Action<nint, nint, nint, nint> inspect)
    {
        var p = new LtPlan();
        try
        {
            LtPlan.Describe(lib, g, out p.Desc, out p.A, out p.B, out p.C);
            inspect(p.Desc, p.A, p.B, p.C);
        }
        finally
        {
            p.Dispose(lib);
        }
    }
}
