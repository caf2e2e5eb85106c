using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using VlmTune.Tensors.Cuda.Native;

namespace VlmTune.Tensors.Cuda;

/// <summary>
/// Finds the driver, a GPU and cuBLAS, and creates ILGPU's CUDA accelerator (real GPUs only). Every failure is a
/// <see cref="CudaUnavailableException"/> with one sentence: no driver, no GPU, ordinal out of range, compute
/// capability below 7.5, a driver without an export ILGPU needs, cuBLAS missing (and where it looked).
/// </summary>
internal static class CudaRuntime
{
    /// <summary>Lowest compute capability (CUDA 13 dropped the older ones).</summary>
    public const int MinMajor = 7, MinMinor = 5;

    static readonly object _lock = new();
    static LibrarySearch<CudaDriver>? _driver;
    static LibrarySearch<CublasLibrary>? _cublas;
    static bool _resolverDone;

    /// <summary>The process's driver search (done once; the libraries stay loaded).</summary>
    public static LibrarySearch<CudaDriver> Driver
    {
        get { lock (_lock) return _driver ??= CudaLibraries.LoadDriver(CudaSearchEnvironment.FromProcess()); }
    }

    /// <summary>The process's cuBLAS search (done once).</summary>
    public static LibrarySearch<CublasLibrary> Cublas
    {
        get { lock (_lock) return _cublas ??= CudaLibraries.LoadCublas(CudaSearchEnvironment.FromProcess()); }
    }

    /// <summary>
    /// The ILGPU context of a real GPU. The PTX gate (tests/VlmTune.Tensors.Cuda.Tests/Ptx) compiles every kernel with
    /// exactly this configuration, so what it checks is what the GPU runs: change it here only.
    /// </summary>
    internal static void ConfigureContext(Context.Builder b) => b.Cuda().Optimize(OptimizationLevel.O1);

    public static (Context, Accelerator) CreateAccelerator(CudaBackendOptions options)
    {
        var log = options.Log;
        int ordinal = options.Ordinal;
        var search = Driver;
        var d = search.Library ?? throw new CudaUnavailableException(Sentence(search.Failure!));
        var gpu = CheckDevice(d, ordinal);
        var missing = d.MissingIlgpuExports();
        if (missing.Count > 0)
            throw new CudaUnavailableException($"the NVIDIA driver {d.Path} does not export {string.Join(", ", missing)}, which ILGPU 1.5.3 needs.");
        var cublas = Cublas;
        var lib = cublas.Library ?? throw new CudaUnavailableException(Sentence(cublas.Failure!));
        log?.Invoke($"cuda: driver {d.Path}; cuBLASLt {lib.LtPath}; cuBLAS {lib.VersionText()} {lib.CublasPath}");

        RegisterIlgpuResolver(d, log);
        Context? context = null;
        try
        {
            context = Context.Create(ConfigureContext);
            CudaDevice? device = null;
            foreach (var dev in context.GetCudaDevices())
                if (dev.DeviceId == gpu.Device) device = dev;
            if (device == null)
                throw new CudaUnavailableException($"ILGPU 1.5.3 does not offer cuda:{ordinal} ({gpu.Name}, compute capability {gpu.Major}.{gpu.Minor}, driver {CudaDriver.VersionText(gpu.DriverVersion)}): it knows no PTX instruction set for this GPU and driver.");
            var accelerator = device.CreateCudaAccelerator(context);
            accelerator.Bind();
            string mem = d.MemoryInfo(out long free, out long total) == CudaDriver.Success
                ? $", {free / (1L << 20)} MiB free of {total / (1L << 20)} MiB" : "";
            log?.Invoke($"cuda backend: cuda:{ordinal} {gpu.Name} (sm_{gpu.Major}{gpu.Minor}, {gpu.Multiprocessors} SMs{mem}), driver {CudaDriver.VersionText(gpu.DriverVersion)}, PTX ISA {device.InstructionSet}");
            return (context, accelerator);
        }
        catch (CudaUnavailableException)
        {
            context?.Dispose();
            throw;
        }
        catch (Exception e)
        {
            context?.Dispose();
            throw new CudaUnavailableException($"ILGPU could not open cuda:{ordinal} ({gpu.Name}): {FirstLine(e.Message)}.", e);
        }
    }

    /// <summary>The GPU provider for a real backend (the accelerator is made by <see cref="CreateAccelerator"/>).</summary>
    public static IGemmProvider CreateCublasProvider(CudaBackend backend)
    {
        var search = Cublas;
        var lib = search.Library ?? throw new CudaUnavailableException(Sentence(search.Failure!));
        bool lt = Environment.GetEnvironmentVariable("VLMTUNE_CUBLAS_LT")?.Trim() is "1" or "true" or "yes";
        var provider = new CublasGemm(backend, lib, lt);
        backend.Options.Log?.Invoke($"cuda backend: GEMMs by {provider.Name}");
        return provider;
    }

    internal readonly record struct Gpu(int Device, string Name, int Major, int Minor, int Multiprocessors, long TotalMemory, int DriverVersion);

    /// <summary>cuInit, the device count and the ordinal's capability, or the one-sentence reason it is unusable.</summary>
    internal static Gpu CheckDevice(CudaDriver d, int ordinal)
    {
        int r = d.Init();
        if (r == CudaDriver.ErrorNoDevice)
            throw new CudaUnavailableException($"no CUDA GPU is visible: the driver {d.Path} reports CUDA_ERROR_NO_DEVICE.");
        if (r != CudaDriver.Success)
            throw new CudaUnavailableException($"the NVIDIA driver {d.Path} did not initialise ({d.ErrorName(r)}).");
        d.DriverVersion(out int version);
        if (d.DeviceCount(out int count) != CudaDriver.Success || count == 0)
            throw new CudaUnavailableException($"no CUDA GPU is visible to the driver {d.Path}.");
        if (ordinal < 0 || ordinal >= count)
            throw new CudaUnavailableException($"cuda:{ordinal} is out of range: the driver sees {count} GPU{(count == 1 ? "" : "s")} (cuda:0{(count > 1 ? $"..cuda:{count - 1}" : "")}).");
        if ((r = d.Device(ordinal, out int dev)) != CudaDriver.Success)
            throw new CudaUnavailableException($"cuda:{ordinal} could not be opened ({d.ErrorName(r)}).");
        d.DeviceName(dev, out var name);
        d.Attribute(dev, CudaDriver.AttrComputeCapabilityMajor, out int major);
        d.Attribute(dev, CudaDriver.AttrComputeCapabilityMinor, out int minor);
        d.Attribute(dev, CudaDriver.AttrMultiprocessorCount, out int sms);
        d.TotalMemory(dev, out long total);
        if (major < MinMajor || (major == MinMajor && minor < MinMinor))
            throw new CudaUnavailableException($"cuda:{ordinal} ({name}) has compute capability {major}.{minor}; VlmTune needs {MinMajor}.{MinMinor} or newer.");
        return new Gpu(dev, name, major, minor, sms, total, version);
    }

    /// <summary>
    /// ILGPU imports the driver as "cuda", which .NET probes as libcuda.so (often absent: only libcuda.so.1 ships with
    /// the driver). Map it to the library we loaded. One resolver per assembly: set once, never over one already there;
    /// on WSL ILGPU sets its own (for /usr/lib/wsl/lib), so leave it alone.
    /// </summary>
    internal static void RegisterIlgpuResolver(CudaDriver driver, Action<string>? log)
    {
        lock (_lock)
        {
            if (_resolverDone) return;
            _resolverDone = true;
            if (IsWsl()) return;
            nint handle = driver.Handle;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(Context).Assembly,
                    (name, _, _) => name is "cuda" or "libcuda" or "libcuda.so" or "nvcuda" ? handle : 0);
            }
            catch (InvalidOperationException)
            {
                log?.Invoke("cuda: ILGPU's assembly already has a DllImport resolver; ILGPU loads the driver itself");
            }
        }
    }

    static bool IsWsl()
    {
        try { return File.ReadAllText("/proc/version").Contains("microsoft", StringComparison.OrdinalIgnoreCase); }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    internal static string Sentence(string s) => s.EndsWith('.') ? s : s + ".";

    static string FirstLine(string s)
    {
        int nl = s.IndexOf('\n');
        return (nl < 0 ? s : s[..nl]).Trim().TrimEnd('.');
    }
}
