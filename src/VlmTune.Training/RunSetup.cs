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
        var processor = SmolVlmProcessor.FromDirectory(s.ModelDir, s.MaxLength).WithNonRgbImages(s.NonRgbImages);
        var model = SmolVlmModel.Load(s.ModelDir, device, out _);
        model.ComputeDType = ComputeDType(s, device);
        log.Info(s.ComputeDType == null
            ? $"compute dtype {model.ComputeDType.Name()} (auto for {device})"
            : $"compute dtype {model.ComputeDType.Name()}");
        if (s.Quantization != null)
            log.Info($"quantized {ModelQuantizer.QuantizeInPlace(model, s.Quantization)} linear layers to {s.Quantization.Type} (QLoRA base)");
        model.Preparation = BasePreparation.Describe(s.ModelDir, s.Quantization, model.ComputeDType) with // saved beside every adapter
        {
            NonRgbImages = Processing.NonRgbImagesNames.Name(s.NonRgbImages),
        };
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

    /// <summary>
    /// Writes the final adapter to {output}/adapter atomically (temp directory swapped in); attempted even after a
    /// failed checkpoint. A failed write removes its temp directory and says how much space it needs.
    /// </summary>
    public static string SaveFinalAdapter(RunSettings s, AdapterSet adapters)
    {
        string final = Path.Combine(s.OutputDir, "adapter");
        string tmp = OutputDirectory.CreateTemp(final);
        try
        {
            adapters.Save(tmp, s.ModelDir, s.ModelDir);
            OutputDirectory.Commit(tmp, final);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RunDirectory.DeleteQuietly(tmp);
            long needed = adapters.TrainableParameters.Sum(p => (long)p.Tensor.Numel) * 4;
            throw new CheckpointWriteException(RunDirectory.SpaceMessage($"{final}: could not write the final adapter", e, s.OutputDir, needed), e);
        }
        return final;
    }

    /// <summary>
    /// Restores the latest intact checkpoint of the run directory, if any; returns the step to start from. A latest
    /// checkpoint that cannot be read (truncated by a crash or a full disk) is set aside as `*.unreadable` with a
    /// warning and the previous one is used; a checkpoint of another configuration is an error.
    /// </summary>
    public static int Resume(RunSettings s, AdapterSet adapters, AdamW optimizer, ITrainingObserver log)
    {
        var all = TrainingCheckpoint.List(s.OutputDir);
        int step = 0;
        for (int i = all.Count - 1; i >= 0; i--)
        {
            try
            {
                step = TrainingCheckpoint.Restore(all[i].Path, adapters, optimizer, s.ConfigHash, s.RunHash, s.Extend);
                log.Info($"resumed from {all[i].Path} at step {step}");
                break;
            }
            catch (CheckpointUnreadableException e)
            {
                string aside = all[i].Path + ".unreadable";
                RunDirectory.DeleteQuietly(aside);
                Directory.Move(all[i].Path, aside);
                log.Warn(i > 0
                    ? $"{e.Message}; moved it to {aside} and resuming from the previous checkpoint {all[i - 1].Path}"
                    : $"{e.Message}; moved it to {aside}; no other checkpoint: starting from step 0");
            }
        }
        var metrics = new FileInfo(Path.Combine(s.OutputDir, "metrics.jsonl"));
        if (all.Count == 0 && metrics.Exists && metrics.Length > 0)
            log.Warn($"no checkpoint in {Path.Combine(s.OutputDir, "checkpoints")}: the earlier attempt stopped before its first one; starting from step 0");
        log.Resumed(step);
        return step;
    }

    /// <summary>Warns about a schedule whose warm-up covers the whole run (every step at a reduced, first at zero, learning rate).</summary>
    public static void CheckSchedule(RunSettings s, int warmup, int total, ITrainingObserver log)
    {
        if (warmup > 0 && warmup >= total)
            log.Warn($"warm-up ({warmup} steps, train.warmup_steps / train.warmup_ratio) is not shorter than the run ({total} steps): " +
                     "the learning rate never reaches train.lr and the first step runs at 0");
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

    /// <summary>Writes a checkpoint; a failed write (full disk) is a warning and the run goes on (null returned).</summary>
    public static string? SaveCheckpoint(RunSettings s, int step, int total, AdapterSet adapters, AdamW optimizer, ITrainingObserver log)
    {
        try
        {
            return TrainingCheckpoint.Save(s.OutputDir, step, adapters, optimizer, s.ConfigHash, s.Seed, s.ModelDir, s.KeepLast, s.RunHash, total);
        }
        catch (CheckpointWriteException e)
        {
            log.Warn($"{e.Message}; the run goes on and the final adapter will still be written");
            return null;
        }
    }

    public static int TotalSteps(RunSettings s, int samples)
    {
        int perStep = s.BatchSize * s.GradAccum;
        return s.MaxSteps > 0 ? s.MaxSteps : Math.Max(1, samples / perStep) * s.Epochs;
    }
}
