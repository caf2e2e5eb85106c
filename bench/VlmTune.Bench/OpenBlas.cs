using System.Runtime.InteropServices;

namespace VlmTune.Bench;

/// <summary>
/// cblas_sgemm from the system OpenBLAS ("libopenblas.so.0", e.g. apt's libopenblas0-pthread; the environment
/// variable VLMTUNE_OPENBLAS may name another file), bound at run time so the benchmark still runs (printing
/// n/a) where the library is missing.
/// </summary>
public sealed unsafe class OpenBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged<int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemv;
    private readonly delegate* unmanaged<int, void> _setNumThreads;
    private readonly nint _library;

    private OpenBlas(nint library)
    {
        _library = library;
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)
            NativeLibrary.GetExport(library, "cblas_sgemm");
        _sgemv = (delegate* unmanaged<int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)
            NativeLibrary.GetExport(library, "cblas_sgemv");
        _setNumThreads = (delegate* unmanaged<int, void>)NativeLibrary.GetExport(library, "openblas_set_num_threads");
    }

    /// <summary>The two environment variables OpenBLAS reads at load time to override its own CPU detection and cache
    /// size: these machines set OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE=512.</summary>
    public static readonly string[] OverrideVariables = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

    /// <summary>"OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512" (or "=unset"), as this process sees them.</summary>
    public static string OverrideSettings() => string.Join(" ",
        OverrideVariables.Select(v => $"{v}={(Environment.GetEnvironmentVariable(v) is { Length: > 0 } value ? value : "unset")}"));

    /// <summary>The loaded library, or null when it (or one of its symbols) is missing.</summary>
    public static OpenBlas? TryLoad()
    {
        string name = Environment.GetEnvironmentVariable("VLMTUNE_OPENBLAS") is { Length: > 0 } custom ? custom : "libopenblas.so.0";
        if (!NativeLibrary.TryLoad(name, out nint library)) return null;
        if (!NativeLibrary.TryGetExport(library, "cblas_sgemm", out _) ||
            !NativeLibrary.TryGetExport(library, "cblas_sgemv", out _) ||
            !NativeLibrary.TryGetExport(library, "openblas_set_num_threads", out _))
            return null;
        return new OpenBlas(library);
    }

    public void SetNumThreads(int threads) => _setNumThreads(threads);

    /// <summary>
    /// The kernel family OpenBLAS picked (openblas_get_corename), e.g. "Haswell" (AVX2) or "Cooperlake"
    /// (AVX-512). Debian's 0.3.21 picks Haswell on Zen 5; OPENBLAS_CORETYPE=Cooperlake selects its AVX-512 kernels.
    /// </summary>
    public string CoreName()
    {
        if (!NativeLibrary.TryGetExport(_library, "openblas_get_corename", out nint export)) return "unknown";
        // SAFETY: openblas_get_corename takes no arguments and returns a static NUL-terminated string.
        nint name = ((delegate* unmanaged<nint>)export)();
        return Marshal.PtrToStringUTF8(name) ?? "unknown";
    }

    /// <summary>Row-major C = alpha·op(A)·op(B) + beta·C, the same argument meaning as Gemm.F32.</summary>
    public void Sgemm(bool transA, bool transB, int M, int N, int K, float alpha,
        float* A, int lda, float* B, int ldb, float beta, float* C, int ldc)
    {
        // SAFETY: the caller passes buffers that cover the extents implied by the sizes and leading dimensions.
        _sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }

    /// <summary>Row-major y = alpha·A·x + beta·y with A (M,N), lda ≥ N (no transpose), unit strides.</summary>
    public void Sgemv(int M, int N, float alpha, float* A, int lda, float* x, float beta, float* y)
    {
        // SAFETY: the caller passes A covering M rows of lda floats, x of N floats and y of M floats.
        _sgemv(RowMajor, NoTrans, M, N, alpha, A, lda, x, 1, beta, y, 1);
    }
}
