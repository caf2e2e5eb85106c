using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Nn;
using VlmTune.Quantization;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Quantization;

/// <summary>
/// QLoRA quantisation of SmolVLM: in memory (<see cref="QuantizeInPlace"/>) or as a bitsandbytes-format checkpoint
/// directory (<see cref="WriteCheckpoint"/>) that transformers + bitsandbytes load, and that VlmTune loads back
/// (CheckpointWeights reads the bnb keys).
/// </summary>
public static class ModelQuantizer
{
    /// <summary>Quantises the model's linear layers in place; returns how many.</summary>
    public static int QuantizeInPlace(SmolVlmModel model, QuantizeSettings settings)
    {
        settings.Validate();
        int count = 0;
        foreach (var (path, layer, _) in model.NamedLinears())
        {
            if (layer.IsQuantized || !settings.Quantizes(path + ".weight", [layer.OutFeatures, layer.InFeatures])) continue;
            FourBit.QuantizeInPlace(layer, settings.Type, settings.Blocksize, settings.DoubleQuant);
            model.Parameters.Remove(path + ".weight"); // the f32/bf16 weight is no longer referenced and can be freed
            count++;
        }
        return count;
    }

    /// <summary>
    /// Writes a quantised copy of checkpoint <paramref name="source"/> to <paramref name="output"/>: quantised weights in
    /// the bitsandbytes key layout, every other tensor as stored, config.json with quantization_config, and the
    /// tokenizer / processor / chat-template files copied. Atomic: a temp directory renamed at the end.
    /// </summary>
    public static (int Quantized, long BytesBefore, long BytesAfter) WriteCheckpoint(string source, string output, QuantizeSettings settings,
        bool force, Action<string>? progress = null)
    {
        settings.Validate();
        var config = SmolVlmConfig.Load(source);
        OutputDirectory.Check(output, force, source);
        string tmp = OutputDirectory.CreateTemp(output);
        try
        {
            int quantized = 0;
            long before = 0, after = 0;
            using (var ckpt = SafeTensorsCheckpoint.Open(source))
            {
                var writer = new SafeTensorsWriter { Metadata = new() { ["format"] = "pt" } };
                int i = 0;
                foreach (var name in ckpt.Names)
                {
                    var info = ckpt.GetInfo(name);
                    string key = SmolVlmWeightNames.NormalizeKey(name);
                    before += info.ByteLength;
                    if (name.Contains(".quant_state.", StringComparison.Ordinal) || info.DTypeName == "U8")
                        throw new InvalidOperationException($"{source}: the checkpoint is already quantised ('{name}')");
                    if (settings.Quantizes(key, info.Shape) && info.DType is DType dt && dt.IsFloat())
                    {
                        var q = Quantize(ckpt.GetBytes(name), dt, info.Shape, settings);
                        foreach (var (k, dtype, shape, data) in Bnb4BitFormat.ToTensors(key, q, TorchName(dt)))
                        {
                            writer.Add(k, dtype, shape, data);
                            after += data.Length;
                        }
                        quantized++;
                    }
                    else
                    {
                        writer.Add(key, info.DTypeName, info.Shape, ckpt.GetBytes(name).ToArray());
                        after += info.ByteLength;
                    }
                    if (++i % 50 == 0) progress?.Invoke($"quantize: {i}/{ckpt.Names.Count} tensors");
                }
                writer.Save(tmp);
            }
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "config.json")))!.AsObject();
            json["quantization_config"] = new BnbQuantizationConfig
            {
                QuantType = settings.Type, DoubleQuant = settings.DoubleQuant,
                ComputeDtype = config.TorchDtype ?? "float32", SkipModules = settings.Skip.ToList(),
            }.ToJsonObject();
            File.WriteAllText(Path.Combine(tmp, "config.json"), json.ToJsonString(new() { WriteIndented = true }) + "\n");
            foreach (var f in Directory.EnumerateFiles(source))
            {
                string n = Path.GetFileName(f);
                if (n == "config.json" || n.EndsWith(".safetensors", StringComparison.Ordinal) || n == "model.safetensors.index.json") continue;
                File.Copy(f, Path.Combine(tmp, n));
            }
            OutputDirectory.Commit(tmp, output);
            return (quantized, before, after);
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            throw;
        }
    }

    static Quantized4Bit Quantize(ReadOnlySpan<byte> bytes, DType dtype, long[] shape, QuantizeSettings s) => dtype switch
    {
        DType.BF16 => Quantizer4Bit.QuantizeBf16(MemoryMarshal.Cast<byte, ushort>(bytes), s.Blocksize, s.Type, s.DoubleQuant, shape),
        DType.F32 => Quantizer4Bit.Quantize(MemoryMarshal.Cast<byte, float>(bytes), s.Blocksize, s.Type, s.DoubleQuant, shape),
        _ => Quantizer4Bit.Quantize(MemoryMarshal.Cast<byte, Half>(bytes).ToArray().Select(h => (float)h).ToArray(), s.Blocksize, s.Type, s.DoubleQuant, shape),
    };

    static string TorchName(DType dt) => dt switch { DType.BF16 => "bfloat16", DType.F16 => "float16", _ => "float32" };
}
