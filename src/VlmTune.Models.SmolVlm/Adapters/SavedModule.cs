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
    public Tensor OriginalWeight { get; }
    public Tensor? OriginalBias { get; }
    /// <summary>(out, in) f32 trainable copy.</summary>
    public Tensor Weight { get; }
    /// <summary>(out) f32 trainable copy, when the layer has a bias.</summary>
    public Tensor? Bias { get; }

    public SavedModule(string path, Linear layer)
    {
        Path = path;
        Layer = layer;
        OriginalWeight = layer.Weight;
        OriginalBias = layer.Bias;
        Weight = TrainableCopy(layer.Weight, path + ".weight");
        Bias = layer.Bias == null ? null : TrainableCopy(layer.Bias, path + ".bias");
        Enabled = true;
    }

    public bool Enabled
    {
        get => ReferenceEquals(Layer.Weight, Weight);
        set
        {
            Layer.Weight = value ? Weight : OriginalWeight;
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
