using System.Runtime.InteropServices;

namespace VlmTune.Tensors.Cuda.Native;

/// <summary>
/// The subset of the CUDA driver API (libcuda.so.1) VlmTune calls itself, bound as function pointers from
/// <see cref="NativeLibrary.GetExport"/> (engine.md §6 option B: exact, versioned export names; a missing symbol is
/// reported by <see cref="TryBind"/>, never a crash at the first call). ILGPU binds its own copy of the driver
/// through <c>[DllImport("cuda")]</c>, which <see cref="CudaRuntime"/> resolves to the same library.
/// </summary>
internal sealed unsafe class CudaDriver
{
    public const string SoName = "libcuda.so.1";

    /// <summary>Every export this class binds (the binding tests check the same list).</summary>
    public static readonly string[] Exports =
    [
        "cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName", "cuDeviceGetAttribute",
        "cuDeviceTotalMem_v2", "cuMemGetInfo_v2", "cuGetErrorName",
    ];

    /// <summary>
    /// Exports ILGPU 1.5.3's CUDA runtime binds (its CudaAPI, read from the assembly): checked up front so a driver
    /// that lacks one is reported in one sentence instead of an EntryPointNotFoundException deep inside ILGPU.
    /// </summary>
    public static readonly string[] IlgpuExports =
    [
        "cuCtxCreate_v2", "cuCtxDestroy_v2", "cuCtxSetCurrent", "cuCtxSynchronize", "cuMemAlloc_v2", "cuMemFree_v2",
        "cuMemcpyAsync", "cuMemsetD8Async", "cuModuleLoadDataEx", "cuModuleGetFunction", "cuModuleUnload",
        "cuLaunchKernel", "cuStreamCreate", "cuStreamDestroy_v2", "cuStreamSynchronize", "cuEventCreate",
        "cuEventRecord", "cuEventSynchronize", "cuEventDestroy_v2", "cuEventElapsedTime", "cuGetErrorString",
    ];

    // CUresult values named in messages (cuda.h).
    public const int Success = 0, ErrorNotInitialized = 3, ErrorInsufficientDriver = 35, ErrorNoDevice = 100,
        ErrorInvalidDevice = 101, ErrorSystemDriverMismatch = 803, ErrorCompatNotSupportedOnDevice = 804;

    // CUdevice_attribute values.
    public const int AttrMultiprocessorCount = 16, AttrComputeCapabilityMajor = 75, AttrComputeCapabilityMinor = 76;

    readonly delegate* unmanaged<uint, int> _init;
    readonly delegate* unmanaged<int*, int> _driverGetVersion;
    readonly delegate* unmanaged<int*, int> _deviceGetCount;
    readonly delegate* unmanaged<int*, int, int> _deviceGet;
    readonly delegate* unmanaged<byte*, int, int, int> _deviceGetName;
    readonly delegate* unmanaged<int*, int, int, int> _deviceGetAttribute;
    readonly delegate* unmanaged<nuint*, int, int> _deviceTotalMem;
    readonly delegate* unmanaged<nuint*, nuint*, int> _memGetInfo;
    readonly delegate* unmanaged<int, byte**, int> _getErrorName;

    public string Path { get; }
    public nint Handle { get; }

    CudaDriver(string path, nint handle, Dictionary<string, nint> exports)
    {
        Path = path;
        Handle = handle;
        _init = (delegate* unmanaged<uint, int>)exports["cuInit"];
        _driverGetVersion = (delegate* unmanaged<int*, int>)exports["cuDriverGetVersion"];
        _deviceGetCount = (delegate* unmanaged<int*, int>)exports["cuDeviceGetCount"];
        _deviceGet = (delegate* unmanaged<int*, int, int>)exports["cuDeviceGet"];
        _deviceGetName = (delegate* unmanaged<byte*, int, int, int>)exports["cuDeviceGetName"];
        _deviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)exports["cuDeviceGetAttribute"];
        _deviceTotalMem = (delegate* unmanaged<nuint*, int, int>)exports["cuDeviceTotalMem_v2"];
        _memGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)exports["cuMemGetInfo_v2"];
        _getErrorName = (delegate* unmanaged<int, byte**, int>)exports["cuGetErrorName"];
    }

    /// <summary>Binds every <see cref="Exports"/> name of a loaded library; false with the missing names otherwise.</summary>
    public static bool TryBind(string path, nint handle, out CudaDriver? driver, out string? failure)
    {
        var exports = NativeExports.Resolve(handle, Exports, out var missing);
        if (missing.Count > 0)
        {
            driver = null;
            failure = $"{path} does not export {string.Join(", ", missing)}";
            return false;
        }
        driver = new CudaDriver(path, handle, exports);
        failure = null;
        return true;
    }

    /// <summary>The <see cref="IlgpuExports"/> names this library lacks.</summary>
    public IReadOnlyList<string> MissingIlgpuExports()
    {
        NativeExports.Resolve(Handle, IlgpuExports, out var missing);
        return missing;
    }

    public int Init() => _init(0);

    public int DriverVersion(out int version)
    {
        int v = 0;
        int r = _driverGetVersion(&v);
        version = v;
        return r;
    }

    public int DeviceCount(out int count)
    {
        int c = 0;
        int r = _deviceGetCount(&c);
        count = c;
        return r;
    }

    public int Device(int ordinal, out int device)
    {
        int d = 0;
        int r = _deviceGet(&d, ordinal);
        device = d;
        return r;
    }

    public int DeviceName(int device, out string name)
    {
        byte* buf = stackalloc byte[256];
        buf[0] = 0;
        int r = _deviceGetName(buf, 256, device);
        buf[255] = 0;
        name = Marshal.PtrToStringUTF8((nint)buf) ?? "";
        return r;
    }

    public int Attribute(int device, int attribute, out int value)
    {
        int v = 0;
        int r = _deviceGetAttribute(&v, attribute, device);
        value = v;
        return r;
    }

    public int TotalMemory(int device, out long bytes)
    {
        nuint b = 0;
        int r = _deviceTotalMem(&b, device);
        bytes = (long)b;
        return r;
    }

    /// <summary>Free and total memory of the current context's device (a context must be current).</summary>
    public int MemoryInfo(out long free, out long total)
    {
        nuint f = 0, t = 0;
        int r = _memGetInfo(&f, &t);
        free = (long)f;
        total = (long)t;
        return r;
    }

    /// <summary>"CUDA_ERROR_NO_DEVICE" for 100, from the driver (or a short table when it does not know the code).</summary>
    public string ErrorName(int result)
    {
        byte* s = null;
        if (_getErrorName(result, &s) == Success && s != null) return Marshal.PtrToStringUTF8((nint)s) ?? KnownName(result);
        return KnownName(result);
    }

    public static string KnownName(int result) => result switch
    {
        Success => "CUDA_SUCCESS",
        ErrorNotInitialized => "CUDA_ERROR_NOT_INITIALIZED",
        ErrorInsufficientDriver => "CUDA_ERROR_INSUFFICIENT_DRIVER",
        ErrorNoDevice => "CUDA_ERROR_NO_DEVICE",
        ErrorInvalidDevice => "CUDA_ERROR_INVALID_DEVICE",
        ErrorSystemDriverMismatch => "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
        ErrorCompatNotSupportedOnDevice => "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
        _ => $"CUresult {result}",
    };

    /// <summary>13000 → "13.0", 12040 → "12.4".</summary>
    public static string VersionText(int version) => $"{version / 1000}.{version % 1000 / 10}";
}

/// <summary>Export lookup shared by the driver and cuBLAS bindings.</summary>
internal static class NativeExports
{
    public static Dictionary<string, nint> Resolve(nint handle, IReadOnlyList<string> names, out List<string> missing)
    {
        var found = new Dictionary<string, nint>(StringComparer.Ordinal);
        missing = [];
        foreach (var name in names)
        {
            if (NativeLibrary.TryGetExport(handle, name, out var p) && p != 0) found[name] = p;
            else missing.Add(name);
        }
        return found;
    }

    /// <summary>A NUL-terminated C string from unmanaged code, or null.</summary>
    public static unsafe string? Utf8(byte* s) => s == null ? null : Marshal.PtrToStringUTF8((nint)s);
}
