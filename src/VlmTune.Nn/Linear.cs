using VlmTune.Tensors;
using VlmTune.Tensors.Quantization;

namespace VlmTune.Nn;

/// <summary>
/// y = x·Wᵀ + b with W (out, in) in f32 or bf16, or a frozen 4-bit weight (<see cref="Quantized"/>, QLoRA);
/// an optional adapter hooks the output.
/// </summary>
public sealed class Linear
{
    Tensor? _weight;

    public Linear(string name, Tensor weight, Tensor? bias)
    {
        Name = name;
        _weight = weight;
        Bias = bias;
        InFeatures = weight.Shape[1];
        OutFeatures = weight.Shape[0];
    }

    /// <summary>A layer whose weight is already 4-bit (a pre-quantised checkpoint).</summary>
    public Linear(string name, Packed4BitWeight weight, Tensor? bias)
    {
        Name = name;
        Quantized = weight;
        Bias = bias;
        InFeatures = weight.InFeatures;
        OutFeatures = weight.OutFeatures;
    }

    public string Name { get; }
    public int InFeatures { get; }
    public int OutFeatures { get; }
    public Tensor? Bias { get; set; }
    public ILinearAdapter? Adapter { get; set; }

    /// <summary>The f32/bf16 weight (out, in). A quantised layer has none: use <see cref="DequantizedWeight"/>.</summary>
    public Tensor Weight
    {
        get => _weight ?? throw new InvalidOperationException($"{Name} is quantised to 4 bits: it has no f32/bf16 weight (use DequantizedWeight())");
        set
        {
            if (value.Shape != new Shape(OutFeatures, InFeatures)) throw new ShapeException($"{Name}: weight {value.Shape} is not ({OutFeatures},{InFeatures})");
            _weight = value;
            Quantized = null;
        }
    }

    /// <summary>The frozen 4-bit weight when the layer is quantised, else null.</summary>
    public Packed4BitWeight? Quantized { get; private set; }

    public bool IsQuantized => Quantized != null;

    public Device Device => Quantized?.Device ?? _weight!.Device;

    /// <summary>Replaces the weight by its 4-bit form (the f32/bf16 tensor is released).</summary>
    public void Quantize(Packed4BitWeight q)
    {
        if (q.OutFeatures != OutFeatures || q.InFeatures != InFeatures)
            throw new ShapeException($"{Name}: 4-bit weight ({q.OutFeatures},{q.InFeatures}) is not ({OutFeatures},{InFeatures})");
        Quantized = q;
        _weight = null;
    }

    /// <summary>The weight as f32 (out, in): widened, or dequantised from 4 bits.</summary>
    public Tensor DequantizedWeight() => Quantized != null ? Ops.Dequantize(Quantized) : Ops.ToDType(Weight, DType.F32);

    public Tensor Forward(Tensor x)
    {
        var y = Quantized != null ? Ops.Linear4Bit(x, Quantized, Bias) : Ops.Linear(x, Weight, Bias);
        return Adapter == null ? y : Adapter.Forward(this, x, y);
    }
}

