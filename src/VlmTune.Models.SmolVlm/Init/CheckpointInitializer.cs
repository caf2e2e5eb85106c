using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Init;

/// <summary>
/// Writes a random-init SmolVLM checkpoint folder that HF and <see cref="SmolVlmModel.Load"/> read: config.json
/// (<see cref="SmolVlmConfig.ToJson"/>, torch_dtype = the storage dtype), model.safetensors (every key of
/// <see cref="SmolVlmWeightNames.Enumerate"/>, values from <see cref="RandomInit"/>, metadata {"format": "pt"}) and
/// the given other files. Atomic: everything is written into a hidden sibling folder that is renamed into place at
/// the end; on failure it is deleted and the target is untouched.
/// </summary>
public static class CheckpointInitializer
{
    /// <param name="files">Other files by name (tokenizer, processor and generation configs), written as UTF-8.</param>
    /// <param name="force">Replace a non-empty <paramref name="dir"/>; without it such a folder is refused.</param>
    public static InitResult Write(SmolVlmConfig config, string dir, ulong seed, DType dtype,
        IReadOnlyDictionary<string, string> files, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(files);
        string full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        if (File.Exists(full)) throw new InitOutputException($"{full}: is a file, not a folder");
        bool exists = Directory.Exists(full);
        if (exists && !force && Directory.EnumerateFileSystemEntries(full).Any())
            throw new InitOutputException($"{full}: folder is not empty (pass --force to replace it)");
        foreach (string name in files.Keys)
            if (name != Path.GetFileName(name) || name is "config.json" || name.EndsWith(".safetensors", StringComparison.Ordinal))
                throw new ArgumentException($"'{name}' cannot be written as an extra checkpoint file", nameof(files));

        string parent = Path.GetDirectoryName(full) ?? throw new InitOutputException($"{full}: has no parent folder");
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{Path.GetFileName(full)}.init-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        var weights = new RandomInit(config, seed, dtype);
        var writer = new SafeTensorsWriter { Metadata = new() { ["format"] = "pt" } };
        try
        {
            var stored = config with { TorchDtype = dtype == DType.BF16 ? "bfloat16" : "float32" };
            File.WriteAllText(Path.Combine(temp, "config.json"), stored.ToJson());
            foreach (var (name, text) in files) File.WriteAllText(Path.Combine(temp, name), text);
            foreach (var (name, shape) in weights.Tensors)
                writer.Add(name, dtype, shape, stream => weights.WriteTo(name, stream));
            writer.Save(temp);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        if (exists)
        {
            string old = Path.Combine(parent, $".{Path.GetFileName(full)}.old-{Guid.NewGuid():N}");
            Directory.Move(full, old);
            Directory.Move(temp, full);
            TryDelete(old);
        }
        else
        {
            Directory.Move(temp, full);
        }
        var written = Directory.GetFiles(full).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        return new InitResult(full, writer.Names.Count, SmolVlmWeightNames.CountParameters(config), writer.TotalSize, written);
    }

    static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
