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

    /// <summary>
    /// Writes checkpoint-{step}. A failed write (a full disk) removes its temp directory and throws
    /// <see cref="CheckpointWriteException"/> saying how much space the checkpoint needs.
    /// </summary>
    public static string Save(string outputDir, int step, AdapterSet adapters, AdamW optimizer, string configHash, ulong seed,
        string modelDir, int keepLast, string? runHash = null, int totalSteps = 0)
    {
        string root = Path.Combine(outputDir, "checkpoints");
        Directory.CreateDirectory(root);
        string final = Path.Combine(root, $"{Prefix}{step:D6}");
        string tmp = Models.SmolVlm.OutputDirectory.CreateTemp(final);
        var p = adapters.TrainableParameters;
        try
        {
            adapters.Save(Path.Combine(tmp, "adapter"), modelDir, modelDir);
            var writer = new SafeTensorsWriter { Metadata = new() { ["format"] = "vlmtune-train-state" } };
            for (int i = 0; i < p.Count; i++)
            {
                var (m, v) = optimizer.State(i);
                long[] shape = p[i].Tensor.Shape.ToArray().Select(d => (long)d).ToArray();
                writer.Add(p[i].Key, DType.F32, shape, p[i].Tensor.ToBytes());
                writer.Add(p[i].Key + ".exp_avg", DType.F32, shape, m.ToBytes());
                writer.Add(p[i].Key + ".exp_avg_sq", DType.F32, shape, v.ToBytes());
            }
            writer.WriteFile(Path.Combine(tmp, "state.safetensors"));
            var state = new TrainerState(step, optimizer.Step, Enumerable.Range(0, p.Count).Select(optimizer.ParameterStep).ToArray(), seed, configHash,
                runHash, totalSteps);
            File.WriteAllText(Path.Combine(tmp, "trainer_state.json"), JsonSerializer.Serialize(state, TrainerStateJson.Default.TrainerState));
            Models.SmolVlm.OutputDirectory.Commit(tmp, final);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RunDirectory.DeleteQuietly(tmp);
            // adapter (f32 at most) + parameters + two AdamW moments, all f32
            long needed = p.Sum(x => (long)x.Tensor.Numel) * 4 * 4;
            throw new CheckpointWriteException(RunDirectory.SpaceMessage($"{final}: could not write the checkpoint", e, root, needed), e);
        }
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

    /// <summary>Reads trainer_state.json; a missing, truncated or malformed one throws <see cref="CheckpointUnreadableException"/>.</summary>
    public static TrainerState ReadState(string checkpointDir)
    {
        string path = Path.Combine(checkpointDir, "trainer_state.json");
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), TrainerStateJson.Default.TrainerState)
                   ?? throw new CheckpointUnreadableException($"{path}: empty");
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw new CheckpointUnreadableException($"{path}: unreadable ({e.Message.Split('\n')[0]})", e);
        }
    }

    /// <summary>
    /// Whether a checkpoint may be continued by a run with <paramref name="configHash"/>: the same configuration, or,
    /// with <paramref name="extend"/>, one that differs only in train.max_steps / train.epochs. Throws
    /// <see cref="CheckpointMismatchException"/> otherwise, naming the way out.
    /// </summary>
    public static void CheckCompatible(string checkpointDir, TrainerState state, string configHash, string? runHash, bool extend)
    {
        if (state.ConfigHash == configHash) return;
        bool lengthOnly = state.RunHash != null && state.RunHash == runHash;
        if (lengthOnly && extend) return;
        string planned = state.TotalSteps > 0 ? $" planned for {state.TotalSteps} steps" : "";
        throw new CheckpointMismatchException(lengthOnly
            ? $"{checkpointDir}: the run{planned} is at step {state.Step}; this recipe changes train.max_steps / train.epochs. " +
              "Pass --extend to continue it to the new length, or --no-resume to start afresh"
            : $"{checkpointDir}: made by a different configuration (hash {state.ConfigHash[..Math.Min(12, state.ConfigHash.Length)]}…); " +
              "use the same recipe, a new output directory, or --no-resume to start afresh");
    }

    /// <summary>
    /// Restores adapter tensors and optimiser state in place; returns the step to continue from. A checkpoint that
    /// cannot be read (truncated, missing tensors) throws <see cref="CheckpointUnreadableException"/>.
    /// </summary>
    public static int Restore(string checkpointDir, AdapterSet adapters, AdamW optimizer, string configHash, string? runHash = null, bool extend = false)
    {
        var state = ReadState(checkpointDir);
        CheckCompatible(checkpointDir, state, configHash, runHash, extend);
        try
        {
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
        }
        catch (Exception e) when (e is IOException or InvalidDataException or SafeTensorsFormatException or KeyNotFoundException)
        {
            throw new CheckpointUnreadableException($"{checkpointDir}/state.safetensors: unreadable ({e.Message.Split('\n')[0]})", e);
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

/// <param name="RunHash">The configuration without train.max_steps / train.epochs (null in checkpoints made before it existed).</param>
/// <param name="TotalSteps">The run length the checkpoint was made under (0 when unknown).</param>
public sealed record TrainerState(int Step, int OptimizerStep, int[] ParameterSteps, ulong Seed, string ConfigHash, string? RunHash = null, int TotalSteps = 0);

/// <summary>A checkpoint write failed (typically a full disk); its temp directory is already removed.</summary>
public sealed class CheckpointWriteException(string message, Exception inner) : IOException(message, inner);

/// <summary>A checkpoint that cannot be read back (truncated or damaged files).</summary>
public sealed class CheckpointUnreadableException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>A checkpoint made by another configuration than the run's.</summary>
public sealed class CheckpointMismatchException(string message) : InvalidOperationException(message);

[System.Text.Json.Serialization.JsonSerializable(typeof(TrainerState))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
internal partial class TrainerStateJson : System.Text.Json.Serialization.JsonSerializerContext;
