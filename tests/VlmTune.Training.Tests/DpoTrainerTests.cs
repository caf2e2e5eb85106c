using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;
using VlmTune.Tensors.Cpu;
using VlmTune.Training.Dpo;

namespace VlmTune.Training.Tests;

public class DpoTrainerTests : IDisposable
{
    readonly string _out = Path.Combine(Path.GetTempPath(), $"vlmtune-dpo-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_out)) Directory.Delete(_out, true);
    }

    static string Root()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VlmTune.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    RunSettings Settings(int steps, DpoLossType type) => new()
    {
        ModelDir = Path.Combine(Root(), "tests/fixtures/model/tiny"),
        TrainData = Path.Combine(Root(), "tests/fixtures/data/dpo.jsonl"),
        OutputDir = _out,
        Seed = 3,
        Lora = new LoraSettings { Targets = TargetModules.AllLinear, Lora = new LoraOptions { Rank = 4, Alpha = 8 } },
        BatchSize = 2,
        MaxSteps = steps,
        Lr = 1e-2f,
        Schedule = ScheduleKind.Constant,
        Dpo = new DpoLossSettings { Beta = 0.5f, LossType = type },
        MaxLength = 512,
    };

    [Fact]
    public void Dpo_starts_at_ln2_learns_the_preference_and_reuses_the_reference_cache()
    {
        var trainer = new DpoTrainer(Settings(15, DpoLossType.Sigmoid), CpuBackend.Device);
        var reports = trainer.Run();
        Assert.Equal(Math.Log(2), reports[0].Step.Loss, 4);          // policy == reference at the first step
        Assert.True(reports[^1].Step.Loss < reports[0].Step.Loss, $"{reports[0].Step.Loss} → {reports[^1].Step.Loss}");
        Assert.True(reports[^1].Metrics.RewardsMargins > 0);
        Assert.Single(Directory.GetFiles(_out, "reference-logps-*.safetensors"));
        var messages = new List<string>();
        Directory.Delete(Path.Combine(_out, "checkpoints"), true);
        new DpoTrainer(Settings(1, DpoLossType.Sigmoid), CpuBackend.Device, new Collect(messages)).Run();
        Assert.Contains(messages, m => m.Contains("from the cache"));
    }

    [Theory]
    [InlineData(DpoLossType.Ipo)]
    [InlineData(DpoLossType.Hinge)]
    [InlineData(DpoLossType.Robust)]
    public void Every_loss_type_trains(DpoLossType type)
    {
        var reports = new DpoTrainer(Settings(4, type) with { CacheReference = false }, CpuBackend.Device).Run();
        Assert.All(reports, r => Assert.True(double.IsFinite(r.Step.Loss)));
    }

    sealed class Collect(List<string> messages) : ITrainingObserver
    {
        public void Info(string message) => messages.Add(message);
    }
}
