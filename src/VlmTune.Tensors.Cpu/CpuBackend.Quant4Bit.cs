using VlmTune.Tensors.Cpu.Kernels;
using VlmTune.Tensors.Quantization;

namespace VlmTune.Tensors.Cpu;

// 4-bit weights: rows of W (out, in) are dequantised TileRows at a time into an f32 scratch tile and multiplied there,
// so the full f32 weight never exists. Forward y[:, r0:r1] (+)= x · tileᵀ; input gradient dx += dy[:, r0:r1] · tile.
// The per-element rule equals VlmTune.Quantization's reference: code[nibble] · scale[block], scale =
// absmax[b] or nested_code[q[b]] · nested_absmax[b/256] + offset (f32, no fused multiply-add); the product is then
// rounded to the weight's ValueDType (bf16/f16, nearest even) as bitsandbytes' dequantize_4bit does
// (Kernels/Dequant4Bit.cs: the vectorised Fast, bit-identical to its per-element Reference).
public sealed unsafe partial class CpuBackend
{
    const int TileRows = 256;

    public void MatMul4Bit(Tensor x, Packed4BitWeight w, Tensor y, bool accumulate)
    {
        var y32 = Out(y, accumulate);
        MatMul4BitF32(W(x), w, y32, accumulate);
        Store(y32, y);
    }

    void MatMul4BitF32(Tensor x, Packed4BitWeight w, Tensor y, bool accumulate)
    {
        using var keep = Hold(x, w, y);
        var (n, inF) = x.Shape.Dims2();
        int outF = w.OutFeatures;
        var tile = new float[TileRows * inF];
        fixed (float* tp = tile)
        {
            for (int r0 = 0; r0 < outF; r0 += TileRows)
            {
                int rows = Math.Min(TileRows, outF - r0);
                DequantizeRows(w, r0, rows, tp);
                Gemm.F32(false, true, n, rows, inF, 1f, F(x), inF, tp, inF, F(y) + r0, outF, accumulate, Threads);
            }
        }
    }

    public void MatMul4BitInputGrad(Tensor dy, Packed4BitWeight w, Tensor dx)
    {
        var dx32 = Out(dx, false);
        MatMul4BitInputGradF32(W(dy), w, dx32);
        Store(dx32, dx);
    }

    void MatMul4BitInputGradF32(Tensor dy, Packed4BitWeight w, Tensor dx)
    {
        using var keep = Hold(dy, w, dx);
        var (n, outF) = dy.Shape.Dims2();
        int inF = w.InFeatures;
        var tile = new float[TileRows * inF];
        fixed (float* tp = tile)
        {
            for (int r0 = 0; r0 < outF; r0 += TileRows)
            {
                int rows = Math.Min(TileRows, outF - r0);
                DequantizeRows(w, r0, rows, tp);
                Gemm.F32(false, false, n, inF, rows, 1f, F(dy) + r0, outF, tp, inF, F(dx), inF, accumulate: r0 > 0, Threads);
            }
        }
    }

    public void Dequantize4Bit(Packed4BitWeight w, Tensor destination)
    {
        if (destination.Shape != new Shape(w.OutFeatures, w.InFeatures) || destination.DType is not (DType.F32 or DType.BF16))
            throw new ShapeException($"dequantize: destination {destination.DType.Name()} {destination.Shape} for weight ({w.OutFeatures},{w.InFeatures})");
        var d32 = Out(destination, false);
        using (Hold(w, d32)) DequantizeRows(w, 0, w.OutFeatures, F(d32));
        Store(d32, destination);
    }

    /// <summary>Rows [r0, r0 + rows) of the weight into dst (rows, in), parallel over chunks of elements.</summary>
    void DequantizeRows(Packed4BitWeight w, int r0, int rows, float* dst)
    {
        long start = (long)r0 * w.InFeatures, count = (long)rows * w.InFeatures;
        var source = Dequant4BitSource(w);
        int bs = w.Blocksize;
        Par.For((int)((count + bs - 1) / bs), 64, Threads, (b0, b1) =>
        {
            long e0 = Math.Min(count, (long)b0 * bs), e1 = Math.Min(count, (long)b1 * bs);
            Dequant4Bit.Fast(source, start + e0, e1 - e0, dst + e0);
        });
    }

    /// <summary>The weight's buffers for <see cref="Dequant4Bit"/> (the caller holds the weight).</summary>
    static Dequant4Bit.Source Dequant4BitSource(Packed4BitWeight w)
    {
        if (w.ValueDType is not (DType.F32 or DType.BF16 or DType.F16)) throw new ShapeException($"4-bit weight {w.Name}: value dtype {w.ValueDType.Name()} is not f32, bf16 or f16");
        return new Dequant4Bit.Source
        {
            Packed = Base(w.Packed),
            Absmax = w.Absmax == null ? null : F(w.Absmax),
            QuantizedAbsmax = w.QuantizedAbsmax == null ? null : Base(w.QuantizedAbsmax),
            NestedAbsmax = w.NestedAbsmax == null ? null : F(w.NestedAbsmax),
            NestedCode = w.NestedCode ?? [],
            Offset = w.Offset,
            Code = w.Code,
            Blocksize = w.Blocksize,
            Round = w.ValueDType,
        };
    }
}
