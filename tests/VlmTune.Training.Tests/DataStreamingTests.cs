using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;
using VlmTune.Tensors.Cpu;
using VlmTune.Training.Dpo;

namespace VlmTune.Training.Tests;

/// <summary>The streamed data path inside the trainers: worker count, resume, feature cache, length grouping.</summary>
public class DataStreamingTests : IDisposable
{
    readonly string _out = Path.Combine(Path.GetTempPath(), $"vlmtune-stream-{Guid.NewGuid():N}");

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

    // Shuffled, dropout on: the order and the dropout masks both matter for bit-identity.
    RunSettings Settings(string output, int steps, int workers) => new()
    {
        ModelDir = Path.Combine(Root(), "tests/fixtures/model/tiny"),
        TrainData = Path.Combine(Root(), "tests/fixtures/data/sft.jsonl"),
        OutputDir = output,
        Seed = 11,
        Lora = new LoraSettings { Targets = TargetModules.AllLinear, Lora = new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0.2f } },
        BatchSize = 2,
        GradAccum = 1,
        MaxSteps = steps,
        Lr = 5e-3f,
        Schedule = ScheduleKind.Constant,
        Shuffle = true,
        MaxLength = 512,
        Workers = workers,
        Prefetch = 3,
    };

    static byte[] Adapter(string dir) => File.ReadAllBytes(Path.Combine(dir, "adapter/adapter_model.safetensors"));

    [Fact]
    public void Three_workers_train_bit_identically_to_none_and_a_resumed_run_with_workers_too()
    {
        var inline = Settings(_out + "-w0", 6, workers: 0);
        var a = new SftTrainer(inline, CpuBackend.Device).Run();
        var threaded = Settings(_out + "-w3", 6, workers: 3);
        var b = new SftTrainer(threaded, CpuBackend.Device).Run();
        Assert.Equal(a.Select(r => r.Loss), b.Select(r => r.Loss));
        Assert.Equal(Adapter(inline.OutputDir), Adapter(threaded.OutputDir));

        // Interrupted after step 3 with 3 workers running ahead, resumed with 2: the same adapter bytes.
        var resumed = Settings(_out + "-resumed", 6, workers: 3) with { CheckpointEverySteps = 2 };
        var cts = new CancellationTokenSource();
        new SftTrainer(resumed, CpuBackend.Device, new StopAfter(3, cts)).Run(cts.Token);
        Assert.Contains(TrainingCheckpoint.List(resumed.OutputDir), c => c.Step == 3);
        var rest = new SftTrainer(resumed with { Workers = 2 }, CpuBackend.Device).Run();
        Assert.Equal(a.Skip(3).Select(r => r.Loss), rest.Select(r => r.Loss));
        Assert.Equal(Adapter(inline.OutputDir), Adapter(resumed.OutputDir));
    }

    [Fact]
    public void The_feature_cache_serves_epoch_2_and_a_resumed_run_and_changes_no_number()
    {
        // 4 records, batch 2: steps 1-2 are epoch 1, steps 3-4 epoch 2. Text-only LoRA: the towers are frozen.
        var log = new Collect();
        // Two workers preparing 3 batches ahead look before epoch 1's features exist; the trainer looks again when the
        // batch runs (and counts then), so epoch 2 never runs the vision tower and the counts do not depend on timing.
        var cached = Settings(_out + "-cache", 4, workers: 2) with { FeatureCache = true };
        var withCache = new SftTrainer(cached, CpuBackend.Device, log).Run();
        int images = 4;   // wide.png, wide.png + tall.png, tall.png, one text-only record: tests/fixtures/data/sft.jsonl
        Assert.Contains(log.Messages, m => m.StartsWith("feature cache after epoch 1:", StringComparison.Ordinal) && m.Contains("2 written"));
        var epoch2 = log.Messages.Single(m => m.StartsWith("feature cache after epoch 2:", StringComparison.Ordinal));
        Assert.StartsWith($"feature cache after epoch 2: {images} hits, 0 misses", epoch2);

        // A second run into a fresh directory computes everything; its numbers equal the cached run's.
        var uncached = Settings(_out + "-nocache", 4, workers: 2);
        var without = new SftTrainer(uncached, CpuBackend.Device).Run();
        Assert.Equal(without.Select(r => r.Loss), withCache.Select(r => r.Loss));
        Assert.Equal(Adapter(uncached.OutputDir), Adapter(cached.OutputDir));

        // A vision-tower adapter turns the cache off (features would go stale as the tower trains).
        var visionLog = new Collect();
        var vision = Settings(_out + "-vision", 1, workers: 0) with
        {
            FeatureCache = true,
            Lora = cached.Lora with { Towers = new HashSet<Tower> { Tower.Text, Tower.Vision } },
        };
        new SftTrainer(vision, CpuBackend.Device, visionLog).Run();
        Assert.Contains(visionLog.Messages, m => m.StartsWith("feature cache off: the vision tower or connector is trained", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(vision.OutputDir, "image-features")));
    }

    [Fact]
    public void The_weights_fingerprint_changes_with_a_vision_or_connector_weight_only()
    {
        string src = Path.Combine(Root(), "tests/fixtures/model/tiny");
        string a = FeatureCacheWeights.Fingerprint(src, null);
        Assert.Equal(a, FeatureCacheWeights.Fingerprint(src, null));
        Assert.NotEqual(a, FeatureCacheWeights.Fingerprint(src, new Models.SmolVlm.Quantization.QuantizeSettings()));
        string copy = _out + "-model";
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(src)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        string weights = Path.Combine(copy, "model.safetensors");
        long Offset(string name)
        {
            using var f = Checkpoints.SafeTensors.SafeTensorsFile.Open(weights);
            return f.GetInfo(name).ByteOffset;
        }
        void Flip(long at)
        {
            var bytes = File.ReadAllBytes(weights);
            bytes[at] ^= 0x01;
            File.WriteAllBytes(weights, bytes);
        }
        Flip(Offset("model.text_model.layers.0.mlp.up_proj.weight"));
        Assert.Equal(a, FeatureCacheWeights.Fingerprint(copy, null));              // text weights do not feed the features
        Flip(Offset("model.vision_model.encoder.layers.0.mlp.fc1.weight"));
        string b = FeatureCacheWeights.Fingerprint(copy, null);
        Assert.NotEqual(a, b);
        Flip(Offset("model.connector.modality_projection.proj.weight"));
        Assert.NotEqual(b, FeatureCacheWeights.Fingerprint(copy, null));
    }

    [Fact]
    public void Length_grouping_trains_resumably_and_dpo_streams_with_workers()
    {
        var log = new Collect();
        var grouped = Settings(_out + "-grouped", 4, workers: 2) with { GroupByLength = true };
        var a = new SftTrainer(grouped, CpuBackend.Device, log).Run();
        Assert.Contains(log.Messages, m => m.Contains("(grouped by length)"));
        var again = new SftTrainer(Settings(_out + "-grouped2", 4, workers: 0) with { GroupByLength = true }, CpuBackend.Device).Run();
        Assert.Equal(a.Select(r => r.Loss), again.Select(r => r.Loss));

        RunSettings Dpo(string dir, int workers) => Settings(dir, 2, workers) with
        {
            TrainData = Path.Combine(Root(), "tests/fixtures/data/dpo.jsonl"),
            Dpo = new DpoLossSettings { Beta = 0.5f }, FeatureCache = true,
        };
        var d0 = new DpoTrainer(Dpo(_out + "-dpo0", 0), CpuBackend.Device).Run();
        var d2 = new DpoTrainer(Dpo(_out + "-dpo2", 2) with { FeatureCache = false }, CpuBackend.Device).Run();
        Assert.Equal(d0.Select(r => r.Step.Loss), d2.Select(r => r.Step.Loss));
    }

    sealed class Collect : ITrainingObserver
    {
        public List<string> Messages { get; } = [];
        public void Info(string message) { lock (Messages) Messages.Add(message); }
    }

    sealed class StopAfter(int steps, CancellationTokenSource cts) : ITrainingObserver
    {
        public void Step(StepReport r)
        {
            if (r.Step >= steps) cts.Cancel();
        }
    }
}
