using System.Runtime.InteropServices;
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
