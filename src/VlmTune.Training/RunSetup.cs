using VlmTune.Data;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Optim;

namespace VlmTune.Training;

/// <summary>The setup both trainers share: processor, model (4-bit base under QLoRA), adapters, dropout stream.</summary>
internal static class RunSetup
{
    public static (SmolVlmProcessor Processor, SmolVlmModel Model, AdapterSet Adapters, DropoutContext Dropout) Prepare(
        RunSettings s, Device device, ITrainingObserver log)
    {
        if (!File.Exists(Path.Combine(s.ModelDir, "config.json")))
            throw new DirectoryNotFoundException($"{s.ModelDir}: model directory not found (no config.json)");
        var processor = SmolVlmProcessor.FromDirectory(s.ModelDir, s.MaxLength);
        var model = SmolVlmModel.Load(s.ModelDir, device, out _);
        model.ComputeDType = ComputeDType(s, device);
        log.Info(s.ComputeDType == null
            ? $"compute dtype {model.ComputeDType.Name()} (auto for {device})"
            : $"compute dtype {model.ComputeDType.Name()}");
        if (s.Quantization != null)
            log.Info($"quantized {ModelQuantizer.QuantizeInPlace(model, s.Quantization)} linear layers to {s.Quantization.Type} (QLoRA base)");
        model.Preparation = BasePreparation.Describe(s.ModelDir, s.Quantization, model.ComputeDType); // saved beside every adapter
        model.Text.GradientCheckpointing = s.GradientCheckpointing;
        model.Vision.GradientCheckpointing = s.GradientCheckpointing;
        var dropout = new DropoutContext(s.Seed);
        var adapters = AdapterSet.Apply(model, s.Lora, s.Seed, dropout);
        var res = adapters.Resolution;
        log.Info($"LoRA on {res.Modules.Count} modules ({string.Join(", ", res.CountsByTower.Select(kv => $"{LoraSettings.TowerName(kv.Key)} {kv.Value}"))}), " +
                 $"{res.TrainableParameters} trainable parameters");
        foreach (var w in res.Warnings) log.Warn(w);
        return (processor, model, adapters, dropout);
    }

    /// <summary>The run's activation dtype: the setting, or with auto the device's default (bf16 on CUDA, f32 on the CPU).</summary>
    public static DType ComputeDType(RunSettings s, Device device) => s.ComputeDType ?? device.DefaultComputeDType;

    /// <summary>Writes the final adapter to {output}/adapter atomically (temp directory swapped in).</summary>
    public static string SaveFinalAdapter(RunSettings s, AdapterSet adapters)
    {
        string final = Path.Combine(s.OutputDir, "adapter");
        string tmp = OutputDirectory.CreateTemp(final);
        adapters.Save(tmp, s.ModelDir, s.ModelDir);
        OutputDirectory.Commit(tmp, final);
        return final;
    }

    /// <summary>Restores the latest checkpoint of the run directory, if any; returns the step to start from.</summary>
    public static int Resume(RunSettings s, AdapterSet adapters, AdamW optimizer, ITrainingObserver log)
    {
        var latest = TrainingCheckpoint.List(s.OutputDir).LastOrDefault();
        if (latest.Path == null) return 0;
        int step = TrainingCheckpoint.Restore(latest.Path, adapters, optimizer, s.ConfigHash);
        log.Info($"resumed from {latest.Path} at step {step}");
        return step;
    }

    /// <summary>Scheduled learning rate, global-norm clipping, one AdamW update; returns (lr, gradient norm before clipping).</summary>
    public static (float Lr, double GradNorm) Update(RunSettings s, AdamW optimizer, int step, int warmup, int total)
    {
        float lr = LrSchedule.At(s.Schedule, s.Lr, step, warmup, total);
        optimizer.Lr = lr;
        double norm = GradClip.ClipByGlobalNorm(optimizer.Parameters.Where(p => p.Grad != null),
            s.MaxGradNorm > 0 ? s.MaxGradNorm : float.PositiveInfinity).Item();
        optimizer.StepOnce();
        return (lr, norm);
    }

    /// <summary>After optimiser step <paramref name="done"/> (1-based): a checkpoint is due every N steps and at the end.</summary>
    public static bool CheckpointDue(RunSettings s, int done, int total) =>
        done == total || (s.CheckpointEverySteps > 0 && done % s.CheckpointEverySteps == 0);

    public static string SaveCheckpoint(RunSettings s, int step, AdapterSet adapters, AdamW optimizer) =>
        TrainingCheckpoint.Save(s.OutputDir, step, adapters, optimizer, s.ConfigHash, s.Seed, s.ModelDir, s.KeepLast);

    public static int TotalSteps(RunSettings s, int samples)
    {
        int perStep = s.BatchSize * s.GradAccum;
        return s.MaxSteps > 0 ? s.MaxSteps : Math.Max(1, samples / perStep) * s.Epochs;
    }
}
