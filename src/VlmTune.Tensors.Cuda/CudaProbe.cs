using VlmTune.Tensors.Cuda.Native;

namespace VlmTune.Tensors.Cuda;

/// <summary>One GPU as the driver reports it.</summary>
public sealed record CudaGpuInfo(int Ordinal, string Name, long TotalMemoryBytes, int ComputeMajor, int ComputeMinor, int Multiprocessors)
{
    public string ComputeCapability => $"{ComputeMajor}.{ComputeMinor}";
    /// <summary>Compute capability 7.5 or newer.</summary>
    public bool Supported => ComputeMajor > CudaRuntime.MinMajor || (ComputeMajor == CudaRuntime.MinMajor && ComputeMinor >= CudaRuntime.MinMinor);
}

/// <summary>What <see cref="CudaProbe.Probe"/> found (for <c>vlmtune env</c>).</summary>
public sealed record CudaProbeResult
{
    public bool DriverFound { get; init; }
    public string? DriverPath { get; init; }
    /// <summary>cuDriverGetVersion, e.g. 13000.</summary>
    public int DriverVersion { get; init; }
    public string? DriverVersionText => DriverFound ? CudaDriver.VersionText(DriverVersion) : null;
    public IReadOnlyList<string> DriverSearched { get; init; } = [];
    public IReadOnlyList<CudaGpuInfo> Gpus { get; init; } = [];
    public bool CublasFound { get; init; }
    public string? CublasPath { get; init; }
    public string? CublasLtPath { get; init; }
    /// <summary>cublasGetProperty major.minor.patch, e.g. "13.1.0".</summary>
    public string? CublasVersion { get; init; }
    /// <summary>cublasLtGetVersion, e.g. 130100.</summary>
    public long CublasLtVersion { get; init; }
    /// <summary>Directories searched for cuBLAS, in order ("(loader path)" = the bare soname through ld.so).</summary>
    public IReadOnlyList<string> CublasSearched { get; init; } = [];
    /// <summary>Null when a GPU backend can be created (as far as the probe can tell); else one sentence why not.</summary>
    public string? Reason { get; init; }
    public bool Usable => Reason == null;
}

/// <summary>
/// Looks for the CUDA driver, GPUs and cuBLAS without creating a backend (no context, no ILGPU); safe on machines
/// without a GPU or driver: it reports, never throws for a missing piece.
/// </summary>
public static class CudaProbe
{
    public static CudaProbeResult Probe() => Probe(CudaSearchEnvironment.FromProcess());

    public static CudaProbeResult Probe(CudaSearchEnvironment env)
    {
        var ds = CudaLibraries.LoadDriver(env);
        var cs = CudaLibraries.LoadCublas(env);
        var result = new CudaProbeResult
        {
            DriverFound = ds.Library != null,
            DriverPath = ds.Library?.Path,
            DriverSearched = ds.Searched,
            CublasFound = cs.Library != null,
            CublasPath = cs.Library?.CublasPath,
            CublasLtPath = cs.Library?.LtPath,
            CublasVersion = cs.Library?.VersionText(),
            CublasLtVersion = cs.Library?.LtVersion ?? 0,
            CublasSearched = cs.Searched,
        };
        string? reason = null;
        var gpus = new List<CudaGpuInfo>();
        var d = ds.Library;
        if (d == null) reason = ds.Failure;
        else
        {
            d.DriverVersion(out int version);
            result = result with { DriverVersion = version };
            int r = d.Init();
            if (r == CudaDriver.ErrorNoDevice) reason = $"no CUDA GPU is visible: the driver {d.Path} reports CUDA_ERROR_NO_DEVICE";
            else if (r != CudaDriver.Success) reason = $"the NVIDIA driver {d.Path} did not initialise ({d.ErrorName(r)})";
            else
            {
                d.DeviceCount(out int count);
                for (int i = 0; i < count; i++)
                {
                    if (d.Device(i, out int dev) != CudaDriver.Success) continue;
                    d.DeviceName(dev, out var name);
                    d.Attribute(dev, CudaDriver.AttrComputeCapabilityMajor, out int major);
                    d.Attribute(dev, CudaDriver.AttrComputeCapabilityMinor, out int minor);
                    d.Attribute(dev, CudaDriver.AttrMultiprocessorCount, out int sms);
                    d.TotalMemory(dev, out long total);
                    gpus.Add(new CudaGpuInfo(i, name, total, major, minor, sms));
                }
                if (gpus.Count == 0) reason = $"no CUDA GPU is visible to the driver {d.Path}";
                else if (!gpus.Any(g => g.Supported))
                    reason = $"no GPU has compute capability {CudaRuntime.MinMajor}.{CudaRuntime.MinMinor} or newer (found {string.Join(", ", gpus.Select(g => $"{g.Name} {g.ComputeCapability}"))})";
                else if (d.MissingIlgpuExports() is { Count: > 0 } missing)
                    reason = $"the NVIDIA driver {d.Path} does not export {string.Join(", ", missing)}, which ILGPU 1.5.3 needs";
            }
        }
        reason ??= cs.Failure;
        return result with { Gpus = gpus, Reason = reason == null ? null : CudaRuntime.Sentence(reason) };
    }
}
