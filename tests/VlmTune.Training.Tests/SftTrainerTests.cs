using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Training.Tests;

public class SftTrainerTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    readonly string _out = Path.Combine(Path.GetTempPath(), $"vlmtune-sft-{Guid.NewGuid():N}");

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

    RunSettings Settings(string output, int batch, int accum, int steps, bool qlora = false) => new()
    {
        ModelDir = Path.Combine(Root(), "tests/fixtures/model/tiny"),
        TrainData = Path.Combine(Root(), "tests/fixtures/data/sft.jsonl"),
        OutputDir = output,
        Seed = 7,
        Quantization = qlora ? new QuantizeSettings() : null,
        Lora = new LoraSettings { Targets = TargetModules.AllLinear, Lora = new LoraOptions { Rank = 4, Alpha = 8 } },
        BatchSize = batch,
        GradAccum = accum,
        MaxSteps = steps,
        Lr = 5e-3f,
        Schedule = ScheduleKind.Constant,
        Shuffle = false,
        MaxLength = 512,
    };

    [Fact]
    public void Gradient_accumulation_4x1_equals_batch_4()
    {
        // One step each; compare the loss and every LoRA gradient (before the optimiser step changes the weights).
        var a = new SftTrainer(Settings(_out + "-a", 4, 1, 1) with { Lr = 0f }, CpuBackend.Device);
        var b = new SftTrainer(Settings(_out + "-b", 1, 4, 1) with { Lr = 0f }, CpuBackend.Device);
        var ra = a.Run();
        var rb = b.Run();
        Assert.True(Math.Abs(ra[0].Loss - rb[0].Loss) <= 1e-5 * Math.Abs(ra[0].Loss), $"loss {ra[0].Loss} vs {rb[0].Loss}");
        var ga = a.Adapters!.TrainableParameters.Select(p => p.Tensor.Grad!.ToArray<float>()).ToList();
        var gb = b.Adapters!.TrainableParameters.Select(p => p.Tensor.Grad!.ToArray<float>()).ToList();
        for (int i = 0; i < ga.Count; i++)
        {
            float scale = Math.Max(1e-6f, ga[i].Max(Math.Abs));
            for (int j = 0; j < ga[i].Length; j++)
                Assert.True(Math.Abs(ga[i][j] - gb[i][j]) <= 1e-5f * scale, $"param {i} element {j}: {ga[i][j]} vs {gb[i][j]}");
        }
    }

    [Fact]
    public void A_resumed_run_ends_with_the_same_adapter_bytes()
    {
        var straight = Settings(_out + "-straight", 2, 1, 6);
        new SftTrainer(straight, CpuBackend.Device).Run();
        var resumed = Settings(_out + "-resumed", 2, 1, 6) with { CheckpointEverySteps = 2 };
        var cts = new CancellationTokenSource();
        var stopper = new StopAfter(3, cts);
        new SftTrainer(resumed, CpuBackend.Device, stopper).Run(cts.Token);   // stops after step 3, saves a checkpoint
        Assert.Contains(TrainingCheckpoint.List(resumed.OutputDir), c => c.Step == 3);
        new SftTrainer(resumed, CpuBackend.Device).Run();                       // resumes at step 3
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight.OutputDir, "adapter/adapter_model.safetensors")),
                     File.ReadAllBytes(Path.Combine(resumed.OutputDir, "adapter/adapter_model.safetensors")));
    }

    [Fact]
    public void Qlora_sft_lowers_the_loss()
    {
        // 4 records, batch 2, no shuffle: even steps see the same batch, so steps 1 and 19 are comparable.
        var reports = new SftTrainer(Settings(_out + "-q", 2, 1, 20, qlora: true) with { Lr = 1e-2f }, CpuBackend.Device).Run();
        Assert.True(reports[18].Loss < reports[0].Loss * 0.95, $"loss {reports[0].Loss} → {reports[18].Loss}");
        Assert.True(File.Exists(Path.Combine(_out + "-q", "adapter/adapter_config.json")));
    }

    [Fact]
    public void Bf16_sft_on_the_cpu_learns_and_saves_an_f32_adapter()
    {
        // Same run in f32 and bf16 compute (LoRA on every linear, dropout off). Step 1's loss is the base model's (B = 0),
        // so it compares the two forwards; then the bf16 run must learn (steps 1 and 19 see the same batch).
        var f32Log = new Collect();
        var bf16Log = new Collect();
        var f32 = new SftTrainer(Settings(_out + "-f32", 2, 1, 20) with { Lr = 1e-2f, ComputeDType = DType.F32 }, CpuBackend.Device, f32Log).Run();
        var trainer = new SftTrainer(Settings(_out + "-bf16", 2, 1, 20) with { Lr = 1e-2f, ComputeDType = DType.BF16 }, CpuBackend.Device, bf16Log);
        var bf16 = trainer.Run();
        Assert.Contains(bf16Log.Messages, m => m == "compute dtype bf16");
        Assert.Contains(f32Log.Messages, m => m == "compute dtype f32");
        Assert.Equal(DType.BF16, trainer.Model!.ComputeDType);
        output.WriteLine($"loss f32: step 1 {f32[0].Loss:G6}, step 19 {f32[18].Loss:G6}; bf16: step 1 {bf16[0].Loss:G6}, step 19 {bf16[18].Loss:G6}");
        // bf16 carries 8 significant bits: the base model's loss (≈ ln V) moves by well under 1%.
        Assert.True(Math.Abs(bf16[0].Loss - f32[0].Loss) <= 1e-2 * f32[0].Loss, $"step-1 loss bf16 {bf16[0].Loss} vs f32 {f32[0].Loss}");
        Assert.True(bf16[18].Loss < bf16[0].Loss * 0.95, $"bf16 loss {bf16[0].Loss} → {bf16[18].Loss}");
        // and it learns about as fast as f32
        Assert.True(Math.Abs(bf16[18].Loss - f32[18].Loss) <= 0.1 * f32[18].Loss, $"step-19 loss bf16 {bf16[18].Loss} vs f32 {f32[18].Loss}");
        foreach (var (key, t) in trainer.Adapters!.TrainableParameters)
        {
            Assert.Equal(DType.F32, t.DType);
            Assert.Equal(DType.F32, t.Grad!.DType);
        }
        using var file = Checkpoints.SafeTensors.SafeTensorsFile.Open(Path.Combine(_out + "-bf16", "adapter/adapter_model.safetensors"));
        Assert.NotEmpty(file.Names);
        Assert.All(file.Names, n => Assert.Equal(DType.F32, file.GetInfo(n).DType));
    }

    [Fact]
    public void Auto_compute_dtype_is_f32_on_the_cpu()
    {
        var log = new Collect();
        var t = new SftTrainer(Settings(_out + "-auto", 1, 1, 1) with { Lr = 0f }, CpuBackend.Device, log);
        t.Run();
        Assert.Equal(DType.F32, t.Model!.ComputeDType);
        Assert.Contains(log.Messages, m => m == "compute dtype f32 (auto for cpu)");
    }

    sealed class Collect : ITrainingObserver
    {
        public List<string> Messages { get; } = [];
        public void Info(string message) => Messages.Add(message);
    }

    sealed class StopAfter(int steps, CancellationTokenSource cts) : ITrainingObserver
    {
        public void Step(StepReport r)
        {
            if (r.Step >= steps) cts.Cancel();
        }
    }
}
