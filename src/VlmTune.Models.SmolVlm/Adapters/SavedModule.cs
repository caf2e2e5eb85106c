using VlmTune.Nn;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Adapters;

/// <summary>
/// A modules_to_save linear (PEFT ModulesToSaveWrapper): its weight (and bias) replaced by trainable f32 copies while
/// <see cref="Enabled"/>; disabling puts the original tensors back (adapters off ⇒ the base model exactly).
/// </summary>
public sealed class SavedModule
{
    public string Path { get; }
    public Linear Layer { get; }
    /// <summary>The base weight that disabling restores (null when the base layer is 4-bit: see <see cref="OriginalQuantized"/>).</summary>
    public Tensor? OriginalWeight { get; }
    /// <summary>The base 4-bit weight under QLoRA; the trainable copy starts from its dequantised values.</summary>
    public VlmTune.Tensors.Quantization.Packed4BitWeight? OriginalQuantized { get; }
    public Tensor? OriginalBias { get; }
    /// <summary>(out, in) f32 trainable copy.</summary>
    public Tensor Weight { get; }
    /// <summary>(out) f32 trainable copy, when the layer has a bias.</summary>
    public Tensor? Bias { get; }

    public SavedModule(string path, Linear layer)
    {
        Path = path;
        Layer = layer;
        OriginalQuantized = layer.Quantized;
        OriginalWeight = layer.IsQuantized ? null : layer.Weight;
        OriginalBias = layer.Bias;
        Weight = TrainableCopy(layer.DequantizedWeight(), path + ".weight");
        Bias = layer.Bias == null ? null : TrainableCopy(layer.Bias, path + ".bias");
        Enabled = true;
    }

    public bool Enabled
    {
        get => !Layer.IsQuantized && ReferenceEquals(Layer.Weight, Weight);
        set
        {
            if (value) Layer.Weight = Weight;
            else if (OriginalQuantized != null) Layer.Quantize(OriginalQuantized);
            else Layer.Weight = OriginalWeight!;
            Layer.Bias = value ? Bias : OriginalBias;
        }
    }

    /// <summary>The trainable tensors with their model-relative keys ("….weight", "….bias").</summary>
    public IReadOnlyList<(string Key, Tensor Tensor)> Parameters() =>
        Bias == null ? [(Path + ".weight", Weight)] : [(Path + ".weight", Weight), (Path + ".bias", Bias)];

    /// <summary>Puts the original tensors back for good.</summary>
    public void Remove() => Enabled = false;

    static Tensor TrainableCopy(Tensor t, string name)
    {
        var copy = Ops.FromArray(t.ToFloatArray(), t.Shape, t.Device);
        copy.Name = name;
        return copy.RequireGrad();
    }
}
