using System.Runtime.InteropServices;

namespace VlmTune.Tensors.Cuda.Native;

/// <summary>cuBLAS / cuBLASLt constants (cublas_api.h, cublasLt.h, library_types.h; engine.md §6).</summary>
public static class CublasConst
{
    // cublasStatus_t
    public const int StatusSuccess = 0, StatusNotInitialized = 1, StatusAllocFailed = 3, StatusInvalidValue = 7,
        StatusArchMismatch = 8, StatusMappingError = 11, StatusExecutionFailed = 13, StatusInternalError = 14,
        StatusNotSupported = 15, StatusLicenseError = 16;
    // cublasOperation_t
    public const int OpN = 0, OpT = 1;
    // cudaDataType
    public const int R32F = 0, R16F = 2, R16BF = 14;
    // cublasComputeType_t
    public const int Compute32F = 68, Compute32FFastTf32 = 77;
    // cublasGemmAlgo_t
    public const int GemmDefault = -1;
    // cublasMath_t
    public const int MathDefault = 0, MathPedantic = 2, MathTf32TensorOp = 3;
    // libraryPropertyType
    public const int PropertyMajor = 0, PropertyMinor = 1, PropertyPatch = 2;
    // cublasLtMatmulDescAttributes_t
    public const int LtDescComputeType = 0, LtDescScaleType = 1, LtDescTransA = 3, LtDescTransB = 4, LtDescEpilogue = 7;
    // cublasLtMatrixLayoutAttribute_t
    public const int LtLayoutType = 0, LtLayoutOrder = 1, LtLayoutRows = 2, LtLayoutCols = 3, LtLayoutLd = 4,
        LtLayoutBatchCount = 5, LtLayoutStridedBatchOffset = 6;
    // cublasLtMatmulPreferenceAttributes_t
    public const int LtPrefMaxWorkspaceBytes = 1;

    public static string StatusName(int status) => status switch
    {
        StatusSuccess => "CUBLAS_STATUS_SUCCESS",
        StatusNotInitialized => "CUBLAS_STATUS_NOT_INITIALIZED",
        StatusAllocFailed => "CUBLAS_STATUS_ALLOC_FAILED",
        StatusInvalidValue => "CUBLAS_STATUS_INVALID_VALUE",
        StatusArchMismatch => "CUBLAS_STATUS_ARCH_MISMATCH",
        StatusMappingError => "CUBLAS_STATUS_MAPPING_ERROR",
        StatusExecutionFailed => "CUBLAS_STATUS_EXECUTION_FAILED",
        StatusInternalError => "CUBLAS_STATUS_INTERNAL_ERROR",
        StatusNotSupported => "CUBLAS_STATUS_NOT_SUPPORTED",
        StatusLicenseError => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => $"cublasStatus {status}",
    };
}

/// <summary>A cuBLAS or cuBLASLt call that returned an error status.</summary>
public sealed class CublasException(string call, int status)
    : Exception($"{call} failed with {CublasConst.StatusName(status)} ({status})")
{
    public string Call { get; } = call;
    public int Status { get; } = status;
}

/// <summary>cublasLtMatmulHeuristicResult_t (96 bytes): the algorithm is the first 64.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct LtHeuristicResult
{
    public fixed ulong Algo[8];
    public nuint WorkspaceSize;
    public int State;
    public float WavesCount;
    public fixed int Reserved[4];
}

/// <summary>
/// libcublas + libcublasLt, loaded by absolute path (Lt first: cuBLAS needs it), every export bound as a function
/// pointer (option B of engine.md §6). The wrappers return the raw status except <see cref="CreateHandle"/>, which
/// turns a failure into one sentence.
/// </summary>
internal sealed unsafe class CublasLibrary
{
    /// <summary>Every libcublas export bound here (the binding tests check this list against a real library).</summary>
    public static readonly string[] CublasExports =
    [
        "cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2", "cublasSetWorkspace_v2", "cublasSetMathMode",
        "cublasGemmEx", "cublasGemmStridedBatchedEx", "cublasGetVersion_v2", "cublasGetProperty", "cublasGetStatusName",
    ];

    /// <summary>Every libcublasLt export bound here.</summary>
    public static readonly string[] LtExports =
    [
        "cublasLtCreate", "cublasLtDestroy", "cublasLtGetVersion",
        "cublasLtMatmulDescCreate", "cublasLtMatmulDescSetAttribute", "cublasLtMatmulDescGetAttribute", "cublasLtMatmulDescDestroy",
        "cublasLtMatrixLayoutCreate", "cublasLtMatrixLayoutSetAttribute", "cublasLtMatrixLayoutGetAttribute", "cublasLtMatrixLayoutDestroy",
        "cublasLtMatmulPreferenceCreate", "cublasLtMatmulPreferenceSetAttribute", "cublasLtMatmulPreferenceDestroy",
        "cublasLtMatmulAlgoGetHeuristic", "cublasLtMatmul",
    ];

    readonly delegate* unmanaged<nint*, int> _create;
    readonly delegate* unmanaged<nint, int> _destroy;
    readonly delegate* unmanaged<nint, nint, int> _setStream;
    readonly delegate* unmanaged<nint, nint, nuint, int> _setWorkspace;
    readonly delegate* unmanaged<nint, int, int> _setMathMode;
    readonly delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, int, nint, int, int, float*, nint, int, int, int, int, int> _gemmEx;
    readonly delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, int, long, nint, int, int, long, float*, nint, int, int, long, int, int, int, int> _gemmStridedBatchedEx;
    readonly delegate* unmanaged<nint, int*, int> _getVersion;
    readonly delegate* unmanaged<int, int*, int> _getProperty;
    readonly delegate* unmanaged<int, byte*> _getStatusName;

    readonly delegate* unmanaged<nint*, int> _ltCreate;
    readonly delegate* unmanaged<nint, int> _ltDestroy;
    readonly delegate* unmanaged<nuint> _ltGetVersion;
    readonly delegate* unmanaged<nint*, int, int, int> _ltDescCreate;
    readonly delegate* unmanaged<nint, int, void*, nuint, int> _ltDescSet;
    readonly delegate* unmanaged<nint, int, void*, nuint, nuint*, int> _ltDescGet;
    readonly delegate* unmanaged<nint, int> _ltDescDestroy;
    readonly delegate* unmanaged<nint*, int, ulong, ulong, long, int> _ltLayoutCreate;
    readonly delegate* unmanaged<nint, int, void*, nuint, int> _ltLayoutSet;
    readonly delegate* unmanaged<nint, int, void*, nuint, nuint*, int> _ltLayoutGet;
    readonly delegate* unmanaged<nint, int> _ltLayoutDestroy;
    readonly delegate* unmanaged<nint*, int> _ltPrefCreate;
    readonly delegate* unmanaged<nint, int, void*, nuint, int> _ltPrefSet;
    readonly delegate* unmanaged<nint, int> _ltPrefDestroy;
    readonly delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, int, LtHeuristicResult*, int*, int> _ltHeuristic;
    readonly delegate* unmanaged<nint, nint, float*, nint, nint, nint, nint, float*, nint, nint, nint, nint, void*, nint, nuint, nint, int> _ltMatmul;

    public string CublasPath { get; }
    public string LtPath { get; }
    public nint CublasHandle { get; }
    public nint LtHandle { get; }

    CublasLibrary(string cublasPath, nint cublas, string ltPath, nint lt, Dictionary<string, nint> c, Dictionary<string, nint> l)
    {
        CublasPath = cublasPath;
        LtPath = ltPath;
        CublasHandle = cublas;
        LtHandle = lt;
        _create = (delegate* unmanaged<nint*, int>)c["cublasCreate_v2"];
        _destroy = (delegate* unmanaged<nint, int>)c["cublasDestroy_v2"];
        _setStream = (delegate* unmanaged<nint, nint, int>)c["cublasSetStream_v2"];
        _setWorkspace = (delegate* unmanaged<nint, nint, nuint, int>)c["cublasSetWorkspace_v2"];
        _setMathMode = (delegate* unmanaged<nint, int, int>)c["cublasSetMathMode"];
        _gemmEx = (delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, int, nint, int, int, float*, nint, int, int, int, int, int>)c["cublasGemmEx"];
        _gemmStridedBatchedEx = (delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, int, long, nint, int, int, long, float*, nint, int, int, long, int, int, int, int>)c["cublasGemmStridedBatchedEx"];
        _getVersion = (delegate* unmanaged<nint, int*, int>)c["cublasGetVersion_v2"];
        _getProperty = (delegate* unmanaged<int, int*, int>)c["cublasGetProperty"];
        _getStatusName = (delegate* unmanaged<int, byte*>)c["cublasGetStatusName"];

        _ltCreate = (delegate* unmanaged<nint*, int>)l["cublasLtCreate"];
        _ltDestroy = (delegate* unmanaged<nint, int>)l["cublasLtDestroy"];
        _ltGetVersion = (delegate* unmanaged<nuint>)l["cublasLtGetVersion"];
        _ltDescCreate = (delegate* unmanaged<nint*, int, int, int>)l["cublasLtMatmulDescCreate"];
        _ltDescSet = (delegate* unmanaged<nint, int, void*, nuint, int>)l["cublasLtMatmulDescSetAttribute"];
        _ltDescGet = (delegate* unmanaged<nint, int, void*, nuint, nuint*, int>)l["cublasLtMatmulDescGetAttribute"];
        _ltDescDestroy = (delegate* unmanaged<nint, int>)l["cublasLtMatmulDescDestroy"];
        _ltLayoutCreate = (delegate* unmanaged<nint*, int, ulong, ulong, long, int>)l["cublasLtMatrixLayoutCreate"];
        _ltLayoutSet = (delegate* unmanaged<nint, int, void*, nuint, int>)l["cublasLtMatrixLayoutSetAttribute"];
        _ltLayoutGet = (delegate* unmanaged<nint, int, void*, nuint, nuint*, int>)l["cublasLtMatrixLayoutGetAttribute"];
        _ltLayoutDestroy = (delegate* unmanaged<nint, int>)l["cublasLtMatrixLayoutDestroy"];
        _ltPrefCreate = (delegate* unmanaged<nint*, int>)l["cublasLtMatmulPreferenceCreate"];
        _ltPrefSet = (delegate* unmanaged<nint, int, void*, nuint, int>)l["cublasLtMatmulPreferenceSetAttribute"];
        _ltPrefDestroy = (delegate* unmanaged<nint, int>)l["cublasLtMatmulPreferenceDestroy"];
        _ltHeuristic = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, int, LtHeuristicResult*, int*, int>)l["cublasLtMatmulAlgoGetHeuristic"];
        _ltMatmul = (delegate* unmanaged<nint, nint, float*, nint, nint, nint, nint, float*, nint, nint, nint, nint, void*, nint, nuint, nint, int>)l["cublasLtMatmul"];
    }

    /// <summary>Binds both export lists of two loaded libraries; false with the missing names otherwise.</summary>
    public static bool TryBind(string cublasPath, nint cublas, string ltPath, nint lt, out CublasLibrary? library, out string? failure)
    {
        var c = NativeExports.Resolve(cublas, CublasExports, out var missingC);
        var l = NativeExports.Resolve(lt, LtExports, out var missingL);
        if (missingC.Count > 0 || missingL.Count > 0)
        {
            library = null;
            var parts = new List<string>();
            if (missingC.Count > 0) parts.Add($"{cublasPath} does not export {string.Join(", ", missingC)}");
            if (missingL.Count > 0) parts.Add($"{ltPath} does not export {string.Join(", ", missingL)}");
            failure = string.Join("; ", parts);
            return false;
        }
        library = new CublasLibrary(cublasPath, cublas, ltPath, lt, c, l);
        failure = null;
        return true;
    }

    // ---- cuBLAS ----

    public int GetProperty(int type, out int value)
    {
        int v = 0;
        int r = _getProperty(type, &v);
        value = v;
        return r;
    }

    /// <summary>"13.1.0" from cublasGetProperty (works without a GPU or a handle); null if the library refuses.</summary>
    public string? VersionText()
    {
        if (GetProperty(CublasConst.PropertyMajor, out int major) != 0) return null;
        GetProperty(CublasConst.PropertyMinor, out int minor);
        GetProperty(CublasConst.PropertyPatch, out int patch);
        return $"{major}.{minor}.{patch}";
    }

    public int Major => GetProperty(CublasConst.PropertyMajor, out int major) == 0 ? major : 0;

    /// <summary>The library's own name for a status (cublasGetStatusName), or ours.</summary>
    public string StatusName(int status)
    {
        var s = NativeExports.Utf8(_getStatusName(status));
        return string.IsNullOrEmpty(s) ? CublasConst.StatusName(status) : s;
    }

    /// <summary>cublasCreate_v2 (the thread's current context must be the GPU's), or the raw status.</summary>
    public int TryCreateHandle(out nint handle)
    {
        nint h = 0;
        int r = _create(&h);
        handle = h;
        return r;
    }

    /// <summary>A cuBLAS handle; <see cref="CudaUnavailableException"/> (one sentence) when cuBLAS cannot start.</summary>
    public nint CreateHandle()
    {
        int r = TryCreateHandle(out var h);
        if (r == CublasConst.StatusSuccess) return h;
        string why = r switch
        {
            CublasConst.StatusNotInitialized => "the CUDA driver or GPU is not usable from this process",
            CublasConst.StatusAllocFailed => "the GPU has no memory left for its workspace",
            CublasConst.StatusArchMismatch => "this cuBLAS build does not support the GPU",
            _ => "it reported an error",
        };
        throw new CudaUnavailableException($"cuBLAS could not start ({StatusName(r)} from cublasCreate_v2 in {CublasPath}): {why}.");
    }

    public int Destroy(nint handle) => _destroy(handle);
    public int SetStream(nint handle, nint stream) => _setStream(handle, stream);
    public int SetWorkspace(nint handle, nint workspace, long bytes) => _setWorkspace(handle, workspace, (nuint)bytes);
    public int SetMathMode(nint handle, int mode) => _setMathMode(handle, mode);

    public int GetVersion(nint handle, out int version)
    {
        int v = 0;
        int r = _getVersion(handle, &v);
        version = v;
        return r;
    }

    /// <summary>cublasGemmEx with the operands of <paramref name="g"/> (a, b = cuBLAS's A and B device pointers).</summary>
    public int GemmEx(nint handle, in CublasGemmArgs g, nint a, nint b, nint c)
    {
        float alpha = g.Alpha, beta = g.Beta;
        return _gemmEx(handle, g.TransA, g.TransB, g.M, g.N, g.K, &alpha, a, g.AType, g.Lda, b, g.BType, g.Ldb,
            &beta, c, g.CType, g.Ldc, g.ComputeType, CublasConst.GemmDefault);
    }

    public int GemmStridedBatchedEx(nint handle, in CublasGemmArgs g, nint a, nint b, nint c)
    {
        float alpha = g.Alpha, beta = g.Beta;
        return _gemmStridedBatchedEx(handle, g.TransA, g.TransB, g.M, g.N, g.K, &alpha, a, g.AType, g.Lda, g.StrideA,
            b, g.BType, g.Ldb, g.StrideB, &beta, c, g.CType, g.Ldc, g.StrideC, g.Batch, g.ComputeType, CublasConst.GemmDefault);
    }

    // ---- cuBLASLt ----

    public long LtVersion => (long)_ltGetVersion();

    public int LtCreate(out nint handle)
    {
        nint h = 0;
        int r = _ltCreate(&h);
        handle = h;
        return r;
    }

    public int LtDestroy(nint handle) => _ltDestroy(handle);

    public int MatmulDescCreate(out nint desc, int computeType, int scaleType)
    {
        nint d = 0;
        int r = _ltDescCreate(&d, computeType, scaleType);
        desc = d;
        return r;
    }

    public int MatmulDescSet(nint desc, int attribute, int value) => _ltDescSet(desc, attribute, &value, sizeof(int));

    public int MatmulDescGet(nint desc, int attribute, out int value)
    {
        int v = 0;
        nuint written = 0;
        int r = _ltDescGet(desc, attribute, &v, sizeof(int), &written);
        value = v;
        return r;
    }

    public int MatmulDescDestroy(nint desc) => _ltDescDestroy(desc);

    public int LayoutCreate(out nint layout, int type, ulong rows, ulong cols, long ld)
    {
        nint l = 0;
        int r = _ltLayoutCreate(&l, type, rows, cols, ld);
        layout = l;
        return r;
    }

    public int LayoutSet(nint layout, int attribute, int value) => _ltLayoutSet(layout, attribute, &value, sizeof(int));
    public int LayoutSet(nint layout, int attribute, long value) => _ltLayoutSet(layout, attribute, &value, sizeof(long));

    /// <summary>A layout attribute of up to 8 bytes (ROWS/COLS are uint64, LD/STRIDED_BATCH_OFFSET int64, others int32).</summary>
    public int LayoutGet(nint layout, int attribute, out long value)
    {
        long v = 0;
        nuint written = 0;
        int size = attribute is CublasConst.LtLayoutRows or CublasConst.LtLayoutCols or CublasConst.LtLayoutLd
            or CublasConst.LtLayoutStridedBatchOffset ? 8 : 4;
        int r = _ltLayoutGet(layout, attribute, &v, (nuint)size, &written);
        value = size == 4 ? (int)v : v;
        return r;
    }

    public int LayoutDestroy(nint layout) => _ltLayoutDestroy(layout);

    public int PreferenceCreate(out nint pref)
    {
        nint p = 0;
        int r = _ltPrefCreate(&p);
        pref = p;
        return r;
    }

    public int PreferenceSetMaxWorkspace(nint pref, ulong bytes) => _ltPrefSet(pref, CublasConst.LtPrefMaxWorkspaceBytes, &bytes, sizeof(ulong));
    public int PreferenceDestroy(nint pref) => _ltPrefDestroy(pref);

    public int AlgoGetHeuristic(nint lt, nint desc, nint a, nint b, nint c, nint d, nint pref, LtHeuristicResult* result, out int returned)
    {
        int n = 0;
        int r = _ltHeuristic(lt, desc, a, b, c, d, pref, 1, result, &n);
        returned = n;
        return r;
    }

    public int Matmul(nint lt, nint desc, float alpha, nint a, nint aLayout, nint b, nint bLayout, float beta,
        nint c, nint cLayout, void* algo, nint workspace, long workspaceBytes, nint stream)
        => _ltMatmul(lt, desc, &alpha, a, aLayout, b, bLayout, &beta, c, cLayout, c, cLayout, algo, workspace, (nuint)workspaceBytes, stream);
}
