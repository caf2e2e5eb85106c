using System.Runtime.InteropServices;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Tensors;

namespace VlmTune.Checkpoints.Peft;

/// <summary>
/// Reads and writes a PEFT adapter directory: adapter_config.json + adapter_model.safetensors (metadata {"format":"pt"},
/// keys per <see cref="PeftKeys"/>), loadable by <c>PeftModel.from_pretrained</c> and transformers' <c>load_adapter</c>.
///
/// Saving is atomic per directory as far as a reader can tell: both files are written to temporary names in the target
/// folder and renamed into place (weights first, config last), so a crash leaves either the old pair or the new weights
/// next to the old config, never a half-written file.
/// </summary>
public static class PeftAdapterFile
{
    public const string WeightsName = "adapter_model.safetensors";
    public const string LegacyWeightsName = "adapter_model.bin";

    /// <summary>Processor / tokenizer files copied next to an adapter so the folder is self-contained for inference.</summary>
    public static readonly IReadOnlyList<string> ProcessorFiles =
    [
        "chat_template.json", "chat_template.jinja", "preprocessor_config.json", "processor_config.json",
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
        "vocab.json", "merges.txt", "generation_config.json",
    ];

    public static void Save(string directory, PeftAdapterConfig config, IEnumerable<PeftTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(config);
        string json = config.ToJson();                                  // validates the config before touching disk
        var writer = new SafeTensorsWriter { Metadata = new Dictionary<string, string> { ["format"] = "pt" } };
        foreach (var t in tensors)
        {
            if (t.Data.Length != t.ElementCount)
                throw new ArgumentException($"adapter tensor '{t.Key}': {t.Data.Length} values for shape [{string.Join(", ", t.Shape)}]");
            writer.Add(PeftKeys.ToFileKey(t.Key), DType.F32, t.Shape, MemoryMarshal.AsBytes(t.Data.AsSpan()).ToArray());
        }
        if (writer.Names.Count == 0) throw new ArgumentException("an adapter needs at least one tensor");

        string dir = Path.GetFullPath(directory);
        Directory.CreateDirectory(dir);
        string tag = Guid.NewGuid().ToString("N");
        string tmpWeights = Path.Combine(dir, $".{WeightsName}.{tag}.tmp");
        string tmpConfig = Path.Combine(dir, $".{PeftAdapterConfig.FileName}.{tag}.tmp");
        try
        {
            writer.WriteFile(tmpWeights);
            File.WriteAllText(tmpConfig, json);
            File.Move(tmpWeights, Path.Combine(dir, WeightsName), overwrite: true);
            File.Move(tmpConfig, Path.Combine(dir, PeftAdapterConfig.FileName), overwrite: true);
        }
        finally
        {
            File.Delete(tmpWeights);
            File.Delete(tmpConfig);
        }
    }

    /// <summary>Copies the processor/tokenizer files of <paramref name="modelDirectory"/> that exist; returns their names.</summary>
    public static IReadOnlyList<string> CopyProcessorFiles(string modelDirectory, string adapterDirectory)
    {
        if (!Directory.Exists(modelDirectory)) throw new DirectoryNotFoundException($"model directory '{modelDirectory}' does not exist");
        Directory.CreateDirectory(adapterDirectory);
        var copied = new List<string>();
        foreach (string name in ProcessorFiles)
        {
            string src = Path.Combine(modelDirectory, name);
            if (!File.Exists(src)) continue;
            File.Copy(src, Path.Combine(adapterDirectory, name), overwrite: true);
            copied.Add(name);
        }
        return copied;
    }

    /// <summary>
    /// Reads an adapter directory. Tensors may be f32, bf16 or f16 (widened to f32). Every key must start with
    /// "base_model.model."; keys are returned model-relative with adapter names removed.
    /// </summary>
    public static PeftAdapter Load(string directory)
    {
        string dir = Path.GetFullPath(directory);
        if (!Directory.Exists(dir)) throw new PeftFormatException(dir, null, "adapter directory does not exist");
        var config = PeftAdapterConfig.Load(Path.Combine(dir, PeftAdapterConfig.FileName));
        string weights = Path.Combine(dir, WeightsName);
        if (!File.Exists(weights))
        {
            string detail = File.Exists(Path.Combine(dir, LegacyWeightsName))
                ? $"missing; only {LegacyWeightsName} (a pickle) is present, which VlmTune does not read — re-save the adapter with safe_serialization=True"
                : "missing";
            throw new PeftFormatException(weights, null, detail);
        }
        var tensors = new Dictionary<string, PeftTensor>(StringComparer.Ordinal);
        using (var file = SafeTensorsFile.Open(weights))
        {
            foreach (var info in file.Tensors)
            {
                string key = PeftKeys.FromFileKey(info.Name)
                    ?? throw new PeftFormatException(weights, info.Name, $"key does not start with \"{PeftKeys.Prefix}\"");
                var data = ReadFloats(file, info, weights);
                if (!tensors.TryAdd(key, new PeftTensor(key, (long[])info.Shape.Clone(), data)))
                    throw new PeftFormatException(weights, info.Name, $"maps to '{key}', which another key already gave");
            }
        }
        if (tensors.Count == 0) throw new PeftFormatException(weights, null, "contains no tensors");
        return new PeftAdapter(dir, config, tensors);
    }

    static float[] ReadFloats(SafeTensorsFile file, TensorInfo info, string path)
    {
        var bytes = file.GetBytes(info.Name);
        long n = info.ElementCount;
        if (n > Array.MaxLength) throw new PeftFormatException(path, info.Name, $"{n} elements is too large for an adapter tensor");
        var result = new float[n];
        switch (info.DType)
        {
            case DType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result);
                break;
            case DType.BF16:
                var bf = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = BitConverter.Int32BitsToSingle(bf[i] << 16);
                break;
            case DType.F16:
                var h = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = (float)h[i];
                break;
            default:
                throw new PeftFormatException(path, info.Name, $"dtype {info.DTypeName} is not a float type (expected F32, BF16 or F16)");
        }
        return result;
    }
}
