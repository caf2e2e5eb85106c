using System.CommandLine;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using VlmTune.Tensors.Cuda;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune env`: what this machine offers VlmTune — CPU features and threads, the .NET runtime, the GPU (driver,
/// devices, compute capability, memory), the cuBLAS libraries found (and where it looked), and what `--device auto`
/// would pick and why. The first thing to run when something about the device fails. Exit 0 even without a GPU.
/// </summary>
public static class EnvCommand
{
    public static Command Create()
    {
        var command = new Command("env", "Show the CPU, GPU, CUDA libraries and what --device auto would use.");
        command.SetAction(_ => Run());
        return command;
    }

    static int Run()
    {
        Console.WriteLine($"vlmtune {typeof(EnvCommand).Assembly.GetName().Version}  .NET {Environment.Version}  {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})");
        var features = new List<string>();
        if (Avx2.IsSupported) features.Add("AVX2");
        if (Fma.IsSupported) features.Add("FMA");
        if (Avx512F.IsSupported) features.Add("AVX-512F");
        if (Avx512BW.IsSupported) features.Add("AVX-512BW");
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) features.Add("Vector512");
        Console.WriteLine($"cpu: {Environment.ProcessorCount} threads; {(features.Count > 0 ? string.Join(", ", features) : "no AVX2")}");
        var probe = CudaProbe.Probe();
        Console.WriteLine(probe.DriverFound
            ? $"cuda driver: {probe.DriverPath} (CUDA {probe.DriverVersionText})"
            : $"cuda driver: libcuda.so.1 not found (looked in: {string.Join(", ", probe.DriverSearched)})");
        if (probe.DriverFound && probe.Gpus.Count == 0) Console.WriteLine("gpus: none");
        foreach (var g in probe.Gpus)
            Console.WriteLine($"gpu {g.Ordinal}: {g.Name}, {g.TotalMemoryBytes / 1073741824.0:F1} GiB, compute capability {g.ComputeCapability}, " +
                              $"{g.Multiprocessors} SMs{(g.Supported ? "" : " — below 7.5, not supported")}");
        Console.WriteLine(probe.CublasFound
            ? $"cublas: {probe.CublasPath} ({probe.CublasVersion}); cublasLt: {probe.CublasLtPath}"
            : $"cublas: not found (looked in: {string.Join(", ", probe.CublasSearched)})");
        if (CudaBackendOptions.SimulateFromEnvironment)
            Console.WriteLine("VLMTUNE_CUDA_SIMULATE=1: `--device cuda` runs the CUDA backend on ILGPU's CPU accelerator (slow; for tests)");
        Console.WriteLine(probe.Usable
            ? $"--device auto → cuda:0 ({probe.Gpus[0].Name})"
            : $"--device auto → cpu: {probe.Reason}");
        return 0;
    }
}
