namespace VlmTune.Tensors.Quantization;

/// <summary>
/// Optional capability of a backend: quantise a float weight to 4 bits on its own device (a bf16/f32 checkpoint
/// quantised at load without a round trip through the host). The result must be byte-identical to VlmTune.Quantization's
/// Quantizer4Bit for the same tables: per block of <paramref name="blocksize"/> flattened elements absmax = max |x|,
/// s = x · fl(1/absmax) (full block) or x / max(absmax, 1e-38) (the partial last block), clamped to [−1, 1]; the code
/// is the first index of the sorted distinct code value selected by counting the f32 midpoints (a+b)/2 strictly below s;
/// packed high nibble first, an odd count padded with the code of 0. Double quantisation: offset = mean(absmax)
/// (f64 sum in order, rounded once), absmax − offset quantised in 256-blocks against <paramref name="nestedCode"/>
/// (nearest, lower index on ties). Backends without it are quantised on the host (VlmTune.Nn.FourBit).
/// </summary>
public interface IQuantizer4Bit
{
    /// <param name="weight">(out, in) f32, bf16 or f16, contiguous, on this backend's device (bf16/f16 widen exactly).</param>
    /// <param name="code">The 16 code values (NF4 or FP4 table); stored as the result's <see cref="Packed4BitWeight.Code"/>.</param>
    /// <param name="blocksize">A power of two from 32 to 4096.</param>
    /// <param name="nestedCode">The 256 ascending values of the dynamic map for double quantisation, or null for plain absmax.</param>
    /// <param name="name">Label for messages (e.g. the checkpoint key).</param>
    /// <exception cref="InvalidDataException">The weight holds a non-finite value (the message names the element).</exception>
    Packed4BitWeight Quantize4Bit(Tensor weight, float[] code, int blocksize, float[]? nestedCode, string? name);
}
