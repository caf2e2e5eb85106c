using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VlmTune.Tensors.Cpu.Kernels;

// Legend: a 4-bit weight of E elements (row-major (out, in)), two codes per byte (element e: the high nibble when e is
// even, the low one when odd), blocks of bs elements (block e / bs) with one scale each. For a range [start, start+n):
//   dst[i] = round(code[nibble(start+i)] · scale(block)),
//   scale(b) = absmax[b], or with double quantisation nestedCode[q[b]] · nestedAbsmax[b / 256] + offset
//   (f32 multiply then add, no fused multiply-add), round = to the weight's value dtype (bf16/f16 nearest even, f32 as is).
// Fast: per block the scale is computed once; with AVX-512 16 elements at a time — 8 packed bytes split into
// interleaved nibbles (hi0 lo0 hi1 lo1 …), widened to 16 indices, looked up in the 16-entry code table with one
// vpermps, multiplied by the scale, bf16 rounding in integer lanes. Bit-identical to Reference (the same f32 product
// and rounding per element; tested), which is the former per-element loop kept as the oracle.

/// <summary>Dequantisation of a packed 4-bit weight range into f32 (NF4/FP4, with or without double quantisation).</summary>
internal static unsafe class Dequant4Bit
{
    /// <summary>The weight's buffers (pointers into pinned CPU storage) and its format.</summary>
    public readonly struct Source
    {
        public required byte* Packed { get; init; }
        /// <summary>f32 scales per block, or null with double quantisation.</summary>
        public required float* Absmax { get; init; }
        /// <summary>Double quantisation: the 8-bit code of each block's scale, its nested absmax per 256 blocks, the offset.</summary>
        public required byte* QuantizedAbsmax { get; init; }
        public required float* NestedAbsmax { get; init; }
        public required float[] NestedCode { get; init; }
        public required float Offset { get; init; }
        public required float[] Code { get; init; }
        public required int Blocksize { get; init; }
        /// <summary>f32, bf16 or f16: what each value is rounded to (bitsandbytes dequantises into the weight's dtype).</summary>
        public required DType Round { get; init; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Scale(long block) => Absmax != null
            ? Absmax[block]
            : NestedCode[QuantizedAbsmax[block]] * NestedAbsmax[block / Quantization.Packed4BitWeight.NestedBlocksize] + Offset;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Rounded(float v) => Round == DType.F32 ? v : Round == DType.BF16 ? Bf16.ToFloat(Bf16.FromFloat(v)) : (float)(Half)v;
    }

    // SAFETY (both): the caller passes a range inside the weight (start + count ≤ E) and dst of count floats; packed
    // holds ceil(E/2) bytes and the scale arrays cover every block of the range.

    /// <summary>The scalar oracle: one element at a time, exactly the per-element rule above.</summary>
    public static void Reference(in Source s, long start, long count, float* dst)
    {
        for (long i = 0; i < count; i++)
        {
            long e = start + i;
            float scale = s.Scale(e / s.Blocksize);
            byte pair = s.Packed[e >> 1];
            int nib = (e & 1) == 0 ? pair >> 4 : pair & 0xF;
            dst[i] = s.Rounded(s.Code[nib] * scale);
        }
    }

    /// <summary>The same values as <see cref="Reference"/>, a block at a time (AVX-512 where available).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fast(in Source s, long start, long count, float* dst)
    {
        bool vector = Avx512F.IsSupported && Avx512BW.IsSupported && s.Code.Length == 16 && s.Round != DType.F16;
        var table = vector ? Vector512.Create(s.Code) : default;
        var low4 = Vector128.Create((byte)0x0F);
        float[] code = s.Code;
        long i = 0;
        while (i < count)
        {
            long e = start + i, block = e / s.Blocksize;
            long end = Math.Min(count, (block + 1) * s.Blocksize - start);   // this block's part of the range
            float scale = s.Scale(block);
            if ((e & 1) == 1)
            {
                dst[i++] = s.Rounded(code[s.Packed[e >> 1] & 0xF] * scale);
                e++;
            }
            if (vector)
            {
                var sv = Vector512.Create(scale);
                for (; i + 16 <= end; i += 16, e += 16)
                {
                    var bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(s.Packed + (e >> 1))).AsByte();
                    var hi = Sse2.ShiftRightLogical(bytes.AsUInt16(), 4).AsByte() & low4;
                    var nibbles = Sse2.UnpackLow(hi, bytes & low4);                 // hi0 lo0 hi1 lo1 … hi7 lo7
                    var x = Avx512F.PermuteVar16x32(table, Avx512F.ConvertToVector512Int32(nibbles)) * sv;
                    if (s.Round == DType.BF16)
                    {
                        if (!Vector512.EqualsAll(x, x))                             // NaN: the scalar rule keeps it quiet
                        {
                            for (int l = 0; l < 16; l++) dst[i + l] = s.Rounded(x.GetElement(l));
                            continue;
                        }
                        var u = x.AsUInt32();
                        u += Vector512.Create(0x7FFFu) + ((u >> 16) & Vector512<uint>.One);
                        x = (u & Vector512.Create(0xFFFF0000u)).AsSingle();
                    }
                    x.Store(dst + i);
                }
            }
            for (; i + 1 < end; i += 2, e += 2)
            {
                byte pair = s.Packed[e >> 1];
                dst[i] = s.Rounded(code[pair >> 4] * scale);
                dst[i + 1] = s.Rounded(code[pair & 0xF] * scale);
            }
            if (i < end) dst[i++] = s.Rounded(code[s.Packed[e >> 1] >> 4] * scale);
        }
    }
}
