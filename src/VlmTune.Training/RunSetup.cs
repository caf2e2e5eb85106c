using VlmTune.Data;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;

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
        if (s.Quantization != null)
            log.Info($"quantized {ModelQuantizer.QuantizeInPlace(model, s.Quantization)} linear layers to {s.Quantization.Type} (QLoRA base)");
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

    /// <summary>Writes the final adapter to {output}/adapter atomically.</summary>
    public static string SaveFinalAdapter(RunSettings s, AdapterSet adapters)
    {
        string final = Path.Combine(s.OutputDir, "adapter");
        string tmp = final + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        adapters.Save(tmp, s.ModelDir, s.ModelDir);
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(tmp, final);
        return final;
    }

    public static int TotalSteps(RunSettings s, int samples)
    {
        int perStep = s.BatchSize * s.GradAccum;
        return s.MaxSteps > 0 ? s.MaxSteps : Math.Max(1, samples / perStep) * s.Epochs;
    }
}
