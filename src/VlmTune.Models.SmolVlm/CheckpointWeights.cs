using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Nn;
using VlmTune.Quantization;
using VlmTune.Tensors.Quantization;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm;

/// <summary>
/// Weights read from a Hugging Face checkpoint directory (single or sharded safetensors). Keys are normalised
/// (`model.text_model.model.` → `model.text_model.`); each requested key must exist with exactly the expected shape.
/// Matrices keep f32/bf16 storage (f16 is widened to f32); <c>f32</c> requests are converted.
/// </summary>
public sealed class CheckpointWeights : IWeightSource, IDisposable
{
    readonly SafeTensorsCheckpoint _ckpt;
    readonly Dictionary<string, string> _byNormalKey = new(StringComparer.Ordinal);
    readonly HashSet<string> _used = new(StringComparer.Ordinal);
    readonly string _dir;

    public Device Device { get; }

    public CheckpointWeights(string dir, Device device)
    {
        _dir = dir;
        Device = device;
        _ckpt = SafeTensorsCheckpoint.Open(dir);
        foreach (var name in _ckpt.Names) _byNormalKey[SmolVlmWeightNames.NormalizeKey(name)] = name;
    }

    public Tensor Get(string key, Shape shape, bool f32)
    {
        if (!_byNormalKey.TryGetValue(key, out var stored))
            throw new ModelLoadException($"{_dir}: checkpoint has no tensor '{key}'");
        _used.Add(key);
        var info = _ckpt.GetInfo(stored);
        if (!info.Shape.Select(d => (int)d).SequenceEqual(shape.ToArray()))
            throw new ModelLoadException($"{_dir}: tensor '{stored}' has shape ({string.Join(",", info.Shape)}), the config needs {shape}");
        var dtype = info.DType ?? throw new ModelLoadException($"{_dir}: tensor '{stored}' has unsupported dtype {info.DTypeName}");
        if (!dtype.IsFloat()) throw new ModelLoadException($"{_dir}: tensor '{stored}' is {info.DTypeName}, a float type is needed");
        var t = Ops.FromBytes(_ckpt.GetBytes(stored), shape, dtype, Device);
        if (f32 || dtype == DType.F16) t = Ops.ToDType(t, DType.F32);
        return t;
    }

    /// <summary>A bitsandbytes 4-bit weight ("X.weight" + "X.weight.quant_state.bitsandbytes__nf4|fp4" and its state), or null.</summary>
    public Packed4BitWeight? GetQuantized(string key, Shape shape)
    {
        if (!_byNormalKey.ContainsKey(key + ".quant_state.bitsandbytes__nf4") && !_byNormalKey.ContainsKey(key + ".quant_state.bitsandbytes__fp4"))
            return null;
        Quantized4Bit q;
        try
        {
            q = Bnb4BitFormat.FromTensors(key, k =>
            {
                if (!_byNormalKey.TryGetValue(k, out var stored)) return null;
                _used.Add(k);
                var info = _ckpt.GetInfo(stored);
                return (info.DTypeName, info.Shape, _ckpt.GetBytes(stored).ToArray());
            });
        }
        catch (QuantizationFormatException e)
        {
            throw new ModelLoadException($"{_dir}: {e.Message}");
        }
        if (q.Shape.Length != 2 || q.Shape[0] != shape[0] || q.Shape[1] != shape[1])
            throw new ModelLoadException($"{_dir}: 4-bit tensor '{key}' has shape ({string.Join(",", q.Shape)}), the config needs {shape}");
        return FourBit.ToDevice(q, Device, key);
    }

    /// <summary>Checkpoint keys that no module asked for (reported, as HF does, not fatal).</summary>
    public IReadOnlyList<string> Unused() => _byNormalKey.Keys.Where(k => !_used.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();

    public void Dispose() => _ckpt.Dispose();
}

/// <summary>A checkpoint that does not fit its config; the message names the directory and tensor.</summary>
public sealed class ModelLoadException(string message) : Exception(message);
