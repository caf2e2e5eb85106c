using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Nn.Lora;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Cuda.Tests.Support;
using VlmTune.Training;
using VlmTune.Training.Dpo;

namespace VlmTune.Tensors.Cuda.Tests.Model;

/// <summary>
/// The tiny SmolVLM checkpoint (tests/fixtures/model/tiny) on the CUDA backend against the CPU backend: forward logits
/// (text and images), a 20-step QLoRA SFT and a 5-step DPO (loss curves), and adapters trained on one backend loaded
/// on the other. f32 compute on both sides, so the tolerances are f32 reassociation: logits ≤ 1e-4, losses ≤ 1e-4
/// relative.
/// </summary>
public class ModelParityTests : IDisposable
{
    readonly string _out = Path.Combine(Path.GetTempPath(), $"vlmtune-cuda-parity-{Guid.NewGuid():N}");

    public void Dispose()
    {
        foreach (var d in Directory.GetDirectories(Path.GetTempPath(), Path.GetFileName(_out) + "*"))
            Directory.Delete(d, true);
    }

    static string Root()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VlmTune.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    static string TinyDir => Path.Combine(Root(), "tests/fixtures/model/tiny");

    static SmolVlmInputs Prompt(SmolVlmModel m, int tiles, int before, int after, ulong seed)
    {
        var rng = new Random((int)seed);
        int seq = m.Config.ImageSeqLen, size = m.Config.Vision.ImageSize;
        var ids = new List<long>();
        for (int i = 0; i < before; i++) ids.Add(rng.Next(3, 200));
        for (int i = 0; i < tiles * seq; i++) ids.Add(m.Config.ImageTokenId);
        for (int i = 0; i < after; i++) ids.Add(rng.Next(3, 200));
        var pixels = VlmTune.Tensors.Ops.RandomUniform(new Shape(Math.Max(1, tiles) * 3 * size * size), seed, Sim.Cpu, -1f, 1f).ToArray<float>();
        return new SmolVlmInputs { InputIds = ids.ToArray(), Batch = 1, PixelValues = tiles > 0 ? pixels : null, TilesPerSample = tiles, TileSize = size };
    }

    static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }

    [Theory]
    [InlineData(0, 9, 0)]
    [InlineData(2, 5, 4)]
    public void Forward_logits_match_the_cpu(int tiles, int before, int after)
    {
        var cpu = SmolVlmModel.Load(TinyDir, Sim.Cpu, out _);
        var cuda = SmolVlmModel.Load(TinyDir, Sim.Device, out _);
        var p = Prompt(cpu, tiles, before, after, 11);
        using var noGrad = GradMode.NoGrad();
        var a = cpu.Forward(p).ToFloatArray();
        var b = cuda.Forward(p).ToFloatArray();
        double d = MaxAbsDiff(a, b);
        Assert.True(d <= 1e-4, $"max |Δlogit| {d}");
    }

    [Fact]
    public void Kv_cache_decoding_matches_the_cpu()
    {
        // The preallocated KV cache on CUDA: each step written into the buffer in place (strided copy), attention reading
        // a narrowed view of it (strided batch/head axes) — against the CPU, token for token.
        var cpu = SmolVlmModel.Load(TinyDir, Sim.Cpu, out _);
        var cuda = SmolVlmModel.Load(TinyDir, Sim.Device, out _);
        var p = Prompt(cpu, 1, 4, 2, 17);
        var opts = new GenerationOptions { MaxNewTokens = 6 };
        var (a, aLogits) = Generator.Generate(cpu, p, opts);
        var (b, bLogits) = Generator.Generate(cuda, p, opts);
        Assert.Equal(a, b);
        for (int s = 0; s < aLogits.Count; s++)
        {
            double d = MaxAbsDiff(aLogits[s], bLogits[s]);
            Assert.True(d <= 1e-4, $"step {s}: max |Δlogit| {d}");
        }
    }

    [Fact]
    public void Bf16_forward_matches_the_cpu_in_bf16()
    {
        // Both backends round activations to bf16 at the same points (the CPU widens to f32 around its kernels, the
        // CUDA kernels load and round per element); only f32 reassociation before a rounding differs, which can move
        // a value by one bf16 ulp (2^-8 relative) and that propagates. Bound: 2 % of the f32 logit range, against the
        // 0.27–1.0 % that bf16 itself moves the logits from f32 (MixedPrecisionModelTests).
        var cpu = SmolVlmModel.Load(TinyDir, Sim.Cpu, out _);
        var cuda = SmolVlmModel.Load(TinyDir, Sim.Device, out _);
        var p = Prompt(cpu, 2, 5, 4, 13);
        using var noGrad = GradMode.NoGrad();
        var f32 = cpu.Forward(p).ToFloatArray();
        cpu.ComputeDType = DType.BF16;
        cuda.ComputeDType = DType.BF16;
        var a = cpu.Forward(p).ToFloatArray();
        var b = cuda.Forward(p).ToFloatArray();
        double range = f32.Max() - f32.Min();
        double d = MaxAbsDiff(a, b);
        Assert.True(d <= 0.02 * range, $"bf16 max |Δlogit| {d} against a logit range of {range}");
    }

    RunSettings Sft(string output, bool qlora) => new()
    {
        ModelDir = TinyDir,
        TrainData = Path.Combine(Root(), "tests/fixtures/data/sft.jsonl"),
        OutputDir = output,
        Seed = 7,
        Quantization = qlora ? new QuantizeSettings() : null,
        Lora = new LoraSettings { Targets = TargetModules.AllLinear, Lora = new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0.1f } },
        BatchSize = 2,
        GradAccum = 1,
        MaxSteps = 20,
        Lr = 5e-3f,
        Schedule = ScheduleKind.Constant,
        Shuffle = true,
        MaxLength = 512,
        ComputeDType = DType.F32, // auto would be bf16 on CUDA: this test compares f32 on both backends
    };

    [Fact]
    public void Qlora_sft_20_steps_matches_the_cpu_and_the_adapter_loads_on_the_cpu()
    {
        var onCpu = new SftTrainer(Sft(_out + "-cpu", qlora: true), Sim.Cpu).Run();
        var onCuda = new SftTrainer(Sft(_out + "-cuda", qlora: true), Sim.Device).Run();
        Assert.Equal(onCpu.Count, onCuda.Count);
        for (int i = 0; i < onCpu.Count; i++)
        {
            double a = onCpu[i].Loss, b = onCuda[i].Loss;
            Assert.True(Math.Abs(a - b) <= 1e-4 * Math.Abs(a), $"step {i + 1}: loss {a} on the cpu, {b} on cuda");
        }
        // The CUDA-trained adapter, loaded by the CPU, gives the CPU-trained adapter's logits.
        var m1 = SmolVlmModel.Load(TinyDir, Sim.Cpu, out _);
        AdapterSet.Load(m1, Path.Combine(_out + "-cpu", "adapter"));
        var m2 = SmolVlmModel.Load(TinyDir, Sim.Cpu, out _);
        AdapterSet.Load(m2, Path.Combine(_out + "-cuda", "adapter"));
        var p = Prompt(m1, 1, 4, 4, 5);
        using var noGrad = GradMode.NoGrad();
        double d = MaxAbsDiff(m1.Forward(p).ToFloatArray(), m2.Forward(p).ToFloatArray());
        Assert.True(d <= 1e-3, $"max |Δlogit| between the adapters trained on the two backends: {d}");
    }

    [Fact]
    public void Dpo_5_steps_matches_the_cpu()
    {
        RunSettings S(string output) => new()
        {
            ModelDir = TinyDir,
            TrainData = Path.Combine(Root(), "tests/fixtures/data/dpo.jsonl"),
            OutputDir = output,
            Seed = 3,
            Lora = new LoraSettings { Targets = TargetModules.AllLinear, Lora = new LoraOptions { Rank = 4, Alpha = 8 } },
            BatchSize = 2,
            MaxSteps = 5,
            Lr = 1e-2f,
            Schedule = ScheduleKind.Constant,
            Dpo = new DpoLossSettings { Beta = 0.5f, LossType = DpoLossType.Sigmoid },
            MaxLength = 512,
            CacheReference = false,
            ComputeDType = DType.F32,
        };
        var onCpu = new DpoTrainer(S(_out + "-dcpu"), Sim.Cpu).Run();
        var onCuda = new DpoTrainer(S(_out + "-dcuda"), Sim.Device).Run();
        Assert.Equal(onCpu.Count, onCuda.Count);
        for (int i = 0; i < onCpu.Count; i++)
        {
            double a = onCpu[i].Step.Loss, b = onCuda[i].Step.Loss;
            Assert.True(Math.Abs(a - b) <= 1e-4 * Math.Abs(a), $"step {i + 1}: loss {a} on the cpu, {b} on cuda");
        }
    }
}
