using System.CommandLine;
using VlmTune.Recipes;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;
using VlmTune.Tensors.Cuda;

namespace VlmTune.Cli;

/// <summary>
/// Turns `--device auto|cpu|cuda|cuda:N` (or a recipe's <c>device</c>) into an engine <see cref="Device"/>.
/// <c>auto</c> takes a CUDA GPU when one is usable and the CPU otherwise, and says which and why; <c>cuda</c> on a
/// machine without a usable GPU is a one-sentence error. <c>VLMTUNE_CUDA_SIMULATE=1</c> makes an explicit <c>cuda</c>
/// run the CUDA backend on ILGPU's CPU accelerator (slow; for tests) — <c>auto</c> never picks the simulation.
/// One backend per process and ordinal.
/// </summary>
public static class DeviceSelection
{
    static readonly Dictionary<(int, bool), CudaBackend> _cuda = new();
    static readonly object _lock = new();

    public const string Help = "Where to compute: auto (a CUDA GPU when one is usable, else the CPU), cpu, cuda or cuda:N. " +
        "VLMTUNE_CUDA_SIMULATE=1 runs `cuda` on the simulated accelerator.";

    public static Option<string?> CreateOption() => new("--device") { Description = Help };

    /// <summary>The device for a verb: the option's value if given, else the recipe's, else auto.</summary>
    public static Device Resolve(string? option, string? recipeValue, Action<string> info, Action<string> warn, string? source = null)
    {
        string text = option ?? recipeValue ?? "auto";
        if (!DeviceSpec.TryParse(text, out var spec))
            throw new UserErrorException($"{(option != null ? "--device" : source != null ? $"{source}: device" : "--device")}: '{text}' is not a device (auto, cpu, cuda or cuda:N)");
        return Resolve(spec, info, warn);
    }

    public static Device Resolve(DeviceSpec spec, Action<string> info, Action<string> warn)
    {
        switch (spec.Choice)
        {
            case DeviceChoice.Cpu:
                info($"device: cpu ({Environment.ProcessorCount} threads), as asked");
                return CpuBackend.Device;
            case DeviceChoice.Cuda:
            {
                bool simulate = CudaBackendOptions.SimulateFromEnvironment;
                try
                {
                    var backend = Get(spec.Ordinal, simulate, info);
                    info($"device: {backend.Name}{(simulate ? " — VLMTUNE_CUDA_SIMULATE=1: the CUDA backend on the CPU, slow, for tests" : "")}");
                    return backend.AsDevice();
                }
                catch (CudaUnavailableException e)
                {
                    throw new UserErrorException($"--device {spec}: {e.Message}");
                }
            }
            default:
                try
                {
                    var backend = Get(0, simulate: false, info);
                    info($"device: {backend.Name} (auto: a usable CUDA GPU was found)");
                    return backend.AsDevice();
                }
                catch (CudaUnavailableException e)
                {
                    warn($"device: cpu ({Environment.ProcessorCount} threads) — auto: {e.Message.TrimEnd('.')}; using the CPU");
                    return CpuBackend.Device;
                }
        }
    }

    static CudaBackend Get(int ordinal, bool simulate, Action<string> info)
    {
        lock (_lock)
        {
            if (_cuda.TryGetValue((ordinal, simulate), out var b)) return b;
            b = CudaBackend.Create(new CudaBackendOptions { Simulate = simulate, Ordinal = ordinal, Log = info });
            _cuda[(ordinal, simulate)] = b;
            return b;
        }
    }
}
