using VlmTune.Nn;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests.Support;

/// <summary>Random weights for tests: N(0, std) for everything (norm weights around 1), keyed so order does not matter.</summary>
public sealed class SeededWeights(ulong seed, float std = 0.1f) : IWeightSource
{
    public Device Device => CpuBackend.Device;

    public Tensor Get(string key, Shape shape, bool f32)
    {
        ulong s = seed;
        foreach (char c in key) s = s * 1099511628211UL ^ c;
        var t = Ops.RandomNormal(shape, s, Device, 0f, std);
        return key.Contains("norm") && key.EndsWith(".weight") ? Ops.AddScalar(t, 1f) : t;
    }
}
