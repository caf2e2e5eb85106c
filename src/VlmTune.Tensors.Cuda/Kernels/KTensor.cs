using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

/// <summary>
/// The kernel-side view of a <see cref="Tensor"/>: its storage block as bytes, element offset, dtype, shape and
/// element strides (any strides, including broadcast stride 0). Loads widen bf16/f16/ints to f32 and stores round
/// (bf16: round-to-nearest-even, NaN kept quiet — the same rule as the CPU backend's Bf16), so one kernel serves every
/// dtype: the dtype branch is uniform across a warp. <see cref="At"/> maps a row-major linear index of the shape to
/// an element index in the storage.
/// </summary>
public struct KTensor
{
    public ArrayView<byte> Data;
    public long Offset;
    /// <summary>(int)<see cref="DType"/>.</summary>
    public int DType;
    public int Rank;
    public long Numel;
    public Dims8 Shape;
    public Dims8 Strides;

    public const int F32 = 0, BF16 = 1, F16 = 2, I32 = 3, I64 = 4, U8 = 5;

    /// <summary>Storage element index of row-major linear index <paramref name="linear"/>.</summary>
    public readonly long At(long linear)
    {
        long off = Offset;
        for (int a = Rank - 1; a >= 0; a--)
        {
            long d = Shape[a];
            off += (linear % d) * Strides[a];
            linear /= d;
        }
        return off;
    }

    /// <summary>Element <paramref name="e"/> of the storage (already offset/strided), widened to f32.</summary>
    public readonly float Load(long e)
    {
        switch (DType)
        {
            case F32: return Data.Cast<float>()[e];
            case BF16: return Num.Bf16ToFloat(Data.Cast<ushort>()[e]);
            case F16: return Num.HalfToFloat(Data.Cast<ushort>()[e]);
            case I32: return Data.Cast<int>()[e];
            case I64: return Data.Cast<long>()[e];
            default: return Data[e];
        }
    }

    public readonly void Store(long e, float v)
    {
        switch (DType)
        {
            case F32: Data.Cast<float>()[e] = v; break;
            case BF16: Data.Cast<ushort>()[e] = Num.FloatToBf16(v); break;
            case F16: Data.Cast<ushort>()[e] = Num.FloatToHalf(v); break;
            case I32: Data.Cast<int>()[e] = (int)v; break;
            case I64: Data.Cast<long>()[e] = (long)v; break;
            default: Data[e] = (byte)v; break;
        }
    }

    /// <summary>Integer element (i32/i64/u8 storage).</summary>
    public readonly long LoadInt(long e)
    {
        switch (DType)
        {
            case I32: return Data.Cast<int>()[e];
            case I64: return Data.Cast<long>()[e];
            default: return Data[e];
        }
    }

    public readonly void StoreInt(long e, long v)
    {
        switch (DType)
        {
            case I32: Data.Cast<int>()[e] = (int)v; break;
            case I64: Data.Cast<long>()[e] = v; break;
            default: Data[e] = (byte)v; break;
        }
    }

    /// <summary>Value at row-major linear index (strided load).</summary>
    public readonly float Get(long linear) => Load(At(linear));
    public readonly void Set(long linear, float v) => Store(At(linear), v);
}
