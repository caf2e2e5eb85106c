using VlmTune.Quantization;
using VlmTune.Tensors;
using VlmTune.Tensors.Quantization;

namespace VlmTune.Nn;

/// <summary>
/// Moves bitsandbytes-layout 4-bit weights (<see cref="Quantized4Bit"/>, the exact CPU reference of
/// VlmTune.Quantization) onto a device as <see cref="Packed4BitWeight"/>, and quantises layers in place.
/// </summary>
public static class FourBit
{
    public static Packed4BitWeight ToDevice(Quantized4Bit q, Device device, string? name = null)
    {
        if (q.Shape.Length != 2) throw new ShapeException($"{name}: a 4-bit linear weight must be 2-D, got ({string.Join(",", q.Shape)})");
        return new Packed4BitWeight
        {
            OutFeatures = (int)q.Shape[0],
            InFeatures = (int)q.Shape[1],
            Blocksize = q.Blocksize,
            Code = QuantTables.For(q.QuantType).ToArray(),
            Packed = Ops.FromArray(q.Packed, new Shape(q.Packed.Length), device),
            Absmax = q.Absmax == null ? null : Ops.FromArray(q.Absmax, new Shape(q.Absmax.Length), device),
            QuantizedAbsmax = q.QuantizedAbsmax == null ? null : Ops.FromArray(q.QuantizedAbsmax, new Shape(q.QuantizedAbsmax.Length), device),
            NestedAbsmax = q.NestedAbsmax == null ? null : Ops.FromArray(q.NestedAbsmax, new Shape(q.NestedAbsmax.Length), device),
            NestedCode = q.NestedCode,
            Offset = q.Offset,
            ValueDType = ValueDType(q.Dtype, name),
            Name = name,
        };
    }

    /// <summary>The quant state's dtype (torch name) as the dtype dequantised values are rounded to.</summary>
    public static DType ValueDType(string torchName, string? name = null) => torchName switch
    {
        "float32" => DType.F32,
        "bfloat16" => DType.BF16,
        "float16" => DType.F16,
        _ => throw new QuantizationFormatException($"{name}: quant state dtype \"{torchName}\" is not float32, bfloat16 or float16"),
    };

    /// <summary>Quantises a layer's weight (bf16 weights are quantised from their bf16 values, as bitsandbytes does).</summary>
    public static Quantized4Bit QuantizeWeight(Linear layer, QuantType type, int blocksize, bool doubleQuant)
    {
        var w = layer.Weight;
        long[] shape = [layer.OutFeatures, layer.InFeatures];
        return w.DType == DType.BF16
            ? Quantizer4Bit.QuantizeBf16(w.ToArray<ushort>(), blocksize, type, doubleQuant, shape)
            : Quantizer4Bit.Quantize(Ops.ToDType(w, DType.F32).ToArray<float>(), blocksize, type, doubleQuant, shape);
    }

    /// <summary>
    /// Quantises a layer's weight where it lives: on the device when its backend implements <see cref="IQuantizer4Bit"/>
    /// (byte-identical to the host path, without the round trip), else on the host.
    /// </summary>
    public static void QuantizeInPlace(Linear layer, QuantType type, int blocksize, bool doubleQuant)
    {
        string name = layer.Name + ".weight";
        if (layer.Weight.Backend is IQuantizer4Bit device)
        {
            Packed4BitWeight w;
            try
            {
                w = device.Quantize4Bit(layer.Weight, QuantTables.For(type).ToArray(), blocksize,
                    doubleQuant ? QuantTables.DynamicSignedCopy() : null, name);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException)
            {
                throw new QuantizationFormatException(e.Message, e); // as the host path reports a bad blocksize or a non-finite weight
            }
            layer.Quantize(w);
            return;
        }
        var q = QuantizeWeight(layer, type, blocksize, doubleQuant);
        layer.Quantize(ToDevice(q, layer.Weight.Device, name));
    }
}
