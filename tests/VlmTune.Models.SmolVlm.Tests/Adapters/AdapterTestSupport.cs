using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Tests.Support;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests.Adapters;

/// <summary>Small helpers shared by the adapter tests: prompts for the tiny model and scratch folders.</summary>
internal static class AdapterTestSupport
{
    public static Device Cpu => CpuBackend.Device;

    /// <summary>One sample: a few text tokens, one image tile of 4 image tokens, more text.</summary>
    public static SmolVlmInputs Prompt(SmolVlmModel m, ulong seed = 5)
    {
        var rng = new Random((int)seed);
        int seq = m.Config.ImageSeqLen, size = m.Config.Vision.ImageSize;
        var ids = new List<long>();
        for (int i = 0; i < 3; i++) ids.Add(rng.Next(3, 200));
        for (int i = 0; i < seq; i++) ids.Add(m.Config.ImageTokenId);
        for (int i = 0; i < 4; i++) ids.Add(rng.Next(3, 200));
        var pixels = Ops.RandomUniform(new Shape(3 * size * size), seed, Cpu, -1f, 1f).ToArray<float>();
        return new SmolVlmInputs { InputIds = ids.ToArray(), Batch = 1, PixelValues = pixels, TilesPerSample = 1, TileSize = size };
    }

    public static float[] Logits(SmolVlmModel m, SmolVlmInputs inputs) => m.Forward(inputs).ToFloatArray();

    /// <summary>Gives every B (and m) non-zero values so the adapters change the output.</summary>
    public static void Perturb(AdapterSet set, ulong seed, float std = 0.05f)
    {
        int i = 0;
        foreach (var a in set.Adapters)
        {
            var b = Ops.RandomNormal(a.B.Shape, seed + (ulong)i++, Cpu, 0f, std).ToArray<float>();
            var m = a.Magnitude == null ? null
                : a.Magnitude.ToFloatArray().Select((v, j) => v * (1f + 0.1f * MathF.Sin(j + i))).ToArray();
            a.Load(a.A.ToFloatArray(), b, m);
        }
    }

    public static TinyScratch Scratch() => new();

    internal sealed class TinyScratch : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vlmtune-lora-" + Guid.NewGuid().ToString("N"));
        public TinyScratch() => Directory.CreateDirectory(Path);
        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !File.Exists(System.IO.Path.Combine(dir.FullName, "VlmTune.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("VlmTune.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static SmolVlmModel Tiny(ulong seed = 1) => TinyModel.Create(seed);
}
