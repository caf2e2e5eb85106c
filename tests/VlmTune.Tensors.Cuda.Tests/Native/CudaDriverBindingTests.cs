using System.Runtime.InteropServices;
using ILGPU.Runtime.Cuda;
using VlmTune.Tensors.Cuda.Native;
using VlmTune.Tensors.Cuda.Tests.Support;

namespace VlmTune.Tensors.Cuda.Tests.Native;

/// <summary>
/// Our driver bindings against a real libcuda.so.1 with no GPU (Debian's libcuda1, fetched by
/// .ci/fetch-cuda-tools.sh): it loads, every export we (and ILGPU) bind is there, cuDriverGetVersion answers, cuInit
/// returns CUDA_ERROR_NO_DEVICE, and that becomes one clear sentence.
/// </summary>
public class CudaDriverBindingTests
{
    static CudaSearchEnvironment Env => CublasBindingTests.Env(CudaTools.DriverDir);

    static CudaDriver Driver()
    {
        var s = CudaLibraries.LoadDriver(Env);
        return s.Library ?? throw new InvalidOperationException($"Debian's libcuda.so.1 did not load: {s.Failure}");
    }

    [Fact]
    public void Every_bound_and_ilgpu_export_resolves()
    {
        var h = NativeLibrary.Load(Path.Combine(CudaTools.DriverDir, "libcuda.so.1"));
        var missing = CudaDriver.Exports.Concat(CudaDriver.IlgpuExports)
            .Where(name => !NativeLibrary.TryGetExport(h, name, out var p) || p == 0).ToList();
        Assert.Empty(missing);
        Assert.Empty(Driver().MissingIlgpuExports());
    }

    [Fact]
    public void Version_and_no_device_without_a_gpu()
    {
        var d = Driver();
        Assert.Equal(Path.Combine(CudaTools.DriverDir, "libcuda.so.1"), d.Path);
        Assert.Equal(CudaDriver.Success, d.DriverVersion(out int version));
        Assert.InRange(version, 12000, 12999); // 535 drivers are CUDA 12.2
        Assert.Matches(@"^12\.\d$", CudaDriver.VersionText(version));
        Assert.Equal(CudaDriver.ErrorNoDevice, d.Init());
        Assert.Equal("CUDA_ERROR_NO_DEVICE", d.ErrorName(CudaDriver.ErrorNoDevice));
        Assert.Equal("CUDA_ERROR_INVALID_DEVICE", d.ErrorName(CudaDriver.ErrorInvalidDevice));
        Assert.NotEqual(CudaDriver.Success, d.DeviceCount(out int count));
        Assert.Equal(0, count);
        var e = Assert.Throws<CudaUnavailableException>(() => CudaRuntime.CheckDevice(d, 0));
        Assert.StartsWith("no CUDA GPU is visible", e.Message);
        Assert.Contains("CUDA_ERROR_NO_DEVICE", e.Message);
        Assert.EndsWith(".", e.Message);
    }

    /// <summary>
    /// ILGPU imports the driver as "cuda" (probed as libcuda.so, which only driver development installs have, and not
    /// this machine): our resolver on its assembly hands it the libcuda.so.1 we loaded. Checked with ILGPU's own
    /// P/Invoke of cuDriverGetVersion (found by reflection: without the resolver it throws DllNotFoundException).
    /// The resolver is process-wide and set once; no other test registers it.
    /// </summary>
    [Fact]
    public void Ilgpu_gets_our_driver_through_the_resolver()
    {
        var d = Driver();
        var log = new List<string>();
        CudaRuntime.RegisterIlgpuResolver(d, log.Add);
        CudaRuntime.RegisterIlgpuResolver(d, log.Add); // a second call is a no-op, not an InvalidOperationException
        Assert.Empty(log);
        // ILGPU 1.5.3's Linux driver API: CudaAPI_1, [LibraryImport("cuda")] static stubs named <export>_Import
        const System.Reflection.BindingFlags Static = System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic;
        var api = typeof(ILGPU.Context).Assembly.GetType("ILGPU.Runtime.Cuda.CudaAPI_1", throwOnError: true)!;
        var libraries = api.GetMethods(Static).SelectMany(m => m.GetCustomAttributes(false).OfType<DllImportAttribute>()).Select(a => a.Value).Distinct();
        Assert.Equal(["cuda"], libraries);
        var import = api.GetMethod("cuDriverGetVersion_Import", Static)!;
        var args = new object?[] { 0 };
        var result = import.Invoke(null, args);
        Assert.Equal(0, Convert.ToInt32(result));
        d.DriverVersion(out int ours);
        Assert.Equal(ours, (int)args[0]!);
        // ILGPU's device enumeration then goes through cuInit (CUDA_ERROR_NO_DEVICE here) and finds no GPU, quietly
        using var context = ILGPU.Context.Create(b => b.Cuda());
        Assert.Equal(0, context.GetCudaDevices().Count);
    }

    [Fact]
    public void Probe_reports_the_driver_and_no_gpu()
    {
        var p = CudaProbe.Probe(Env);
        Assert.True(p.DriverFound);
        Assert.Equal(Path.Combine(CudaTools.DriverDir, "libcuda.so.1"), p.DriverPath);
        Assert.StartsWith("12.", p.DriverVersionText);
        Assert.Empty(p.Gpus);
        Assert.False(p.Usable);
        Assert.StartsWith("no CUDA GPU is visible", p.Reason);
        Assert.DoesNotContain('\n', p.Reason!);
    }
}
