using System.Runtime.InteropServices;
using System.Text.Json;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Tensors;
using VlmTune.Tensors.Optim;

namespace VlmTune.Training;

/// <summary>
/// A resumable training checkpoint: `checkpoint-{step}/` with the adapter in PEFT format (adapter/), the exact
/// trainable tensors and AdamW moments (state.safetensors, f32), and trainer_state.json (step, per-parameter optimiser
/// steps, seed, config hash). The data position and dropout stream are functions of (seed, step), so nothing else is
/// needed to continue bit-identically. Written to a temp directory and renamed; only the last K are kept.
/// </summary>
public static class TrainingCheckpoint
{
    const string Prefix = "checkpoint-";

    public static string Save(string outputDir, int step, AdapterSet adapters, AdamW optimizer, string configHash, ulong seed,
        string modelDir, int keepLast)
    {
        string root = Path.Combine(outputDir, "checkpoints");
        Directory.CreateDirectory(root);
        string final = Path.Combine(root, $"{Prefix}{step:D6}");
        string tmp = Models.SmolVlm.OutputDirectory.CreateTemp(final);
        adapters.Save(Path.Combine(tmp, "adapter"), modelDir, modelDir);
        var writer = new SafeTensorsWriter { Metadata = new() { ["format"] = "vlmtune-train-state" } };
        var p = adapters.TrainableParameters;
        for (int i = 0; i < p.Count; i++)
        {
            var (m, v) = optimizer.State(i);
            long[] shape = p[i].Tensor.Shape.ToArray().Select(d => (long)d).ToArray();
            writer.Add(p[i].Key, DType.F32, shape, p[i].Tensor.ToBytes());
            writer.Add(p[i].Key + ".exp_avg", DType.F32, shape, m.ToBytes());
            writer.Add(p[i].Key + ".exp_avg_sq", DType.F32, shape, v.ToBytes());
        }
        writer.WriteFile(Path.Combine(tmp, "state.safetensors"));
        var state = new TrainerState(step, optimizer.Step, Enumerable.Range(0, p.Count).Select(optimizer.ParameterStep).ToArray(), seed, configHash);
        File.WriteAllText(Path.Combine(tmp, "trainer_state.json"), JsonSerializer.Serialize(state, TrainerStateJson.Default.TrainerState));
        Models.SmolVlm.OutputDirectory.Commit(tmp, final);
        foreach (var old in List(outputDir).SkipLast(Math.Max(1, keepLast))) Directory.Delete(old.Path, true);
        return final;
    }

    /// <summary>Checkpoints of a run, oldest first (incomplete temp directories are ignored).</summary>
    public static IReadOnlyList<(int Step, string Path)> List(string outputDir)
    {
        string root = Path.Combine(outputDir, "checkpoints");
        if (!Directory.Exists(root)) return [];
        return Directory.GetDirectories(root, Prefix + "*")
            .Select(d => (Ok: int.TryParse(Path.GetFileName(d)[Prefix.Length..], out int step), Step: step, Path: d))
            .Where(c => c.Ok && File.Exists(Path.Combine(c.Path, "trainer_state.json")))   // temp/aside directories never parse
            .Select(c => (c.Step, c.Path))
            .OrderBy(c => c.Step).ToList();
    }

    /// <summary>Restores adapter tensors and optimiser state in place; returns the step to continue from.</summary>
    public static int Restore(string checkpointDir, AdapterSet adapters, AdamW optimizer, string configHash)
    {
        var state = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(checkpointDir, "trainer_state.json")), TrainerStateJson.Default.TrainerState)
            ?? throw new InvalidDataException($"{checkpointDir}/trainer_state.json: empty");
        if (state.ConfigHash != configHash)
            throw new InvalidOperationException($"{checkpointDir}: made by a different configuration (hash {state.ConfigHash[..Math.Min(12, state.ConfigHash.Length)]}…); " +
                                                "use a new output directory or the same recipe");
        using var file = SafeTensorsFile.Open(Path.Combine(checkpointDir, "state.safetensors"));
        var p = adapters.TrainableParameters;
        if (state.ParameterSteps.Length != p.Count)
            throw new InvalidDataException($"{checkpointDir}: {state.ParameterSteps.Length} parameters in the checkpoint, the run has {p.Count}");
        for (int i = 0; i < p.Count; i++)
        {
            var (m, v) = optimizer.State(i);
            Fill(file, p[i].Key, p[i].Tensor, checkpointDir);
            Fill(file, p[i].Key + ".exp_avg", m, checkpointDir);
            Fill(file, p[i].Key + ".exp_avg_sq", v, checkpointDir);
        }
        optimizer.RestoreSteps(state.OptimizerStep, state.ParameterSteps);
        return state.Step;
    }

    static void Fill(SafeTensorsFile file, string key, Tensor target, string dir)
    {
        var info = file.TryGetInfo(key) ?? throw new InvalidDataException($"{dir}/state.safetensors: no tensor '{key}'");
        if (info.ElementCount != target.Numel) throw new InvalidDataException($"{dir}/state.safetensors: '{key}' has {info.ElementCount} values, expected {target.Numel}");
        target.Backend.CopyFromHost(file.GetBytes(key), target);
    }
}

public sealed record TrainerState(int Step, int OptimizerStep, int[] ParameterSteps, ulong Seed, string ConfigHash);

[System.Text.Json.Serialization.JsonSerializable(typeof(TrainerState))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
internal partial class TrainerStateJson : System.Text.Json.Serialization.JsonSerializerContext;
