using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VlmTune.Tensors.Cpu.Kernels;

// 8×8 in-register transposes used when packing a transposed B (stored (N,K)) into k-major panels:
// src rows r = 0..7 (stride srcStride) × 8 consecutive k  →  dst rows k = 0..7 (stride dstStride) × 8 columns.

/// <summary>AVX 8×8 transposes of f32 and of bf16 (widened exactly on the way).</summary>
internal static unsafe class GemmTranspose
{
    public static bool IsSupported => Avx2.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void F32x8x8(float* src, long srcStride, float* dst, long dstStride)
    {
        // SAFETY: the caller guarantees 8 rows × 8 floats readable at src and 8 rows × 8 floats writable at dst.
        Store(Avx.LoadVector256(src), Avx.LoadVector256(src + srcStride),
            Avx.LoadVector256(src + 2 * srcStride), Avx.LoadVector256(src + 3 * srcStride),
            Avx.LoadVector256(src + 4 * srcStride), Avx.LoadVector256(src + 5 * srcStride),
            Avx.LoadVector256(src + 6 * srcStride), Avx.LoadVector256(src + 7 * srcStride), dst, dstStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Bf16x8x8(ushort* src, long srcStride, float* dst, long dstStride)
    {
        // SAFETY: as F32x8x8, with 8 ushorts per source row.
        Store(Widen(src), Widen(src + srcStride), Widen(src + 2 * srcStride), Widen(src + 3 * srcStride),
            Widen(src + 4 * srcStride), Widen(src + 5 * srcStride), Widen(src + 6 * srcStride),
            Widen(src + 7 * srcStride), dst, dstStride);
    }

    /// <summary>
    /// Packs 8 consecutive k of a 6-row A panel (rows at stride srcStride) scaled by alpha as 8 groups of 6 floats
    /// at dst. Writes 50 floats: each group is stored as 8 floats and the next group overwrites the 2 spare ones,
    /// so the caller must own 2 floats past the 48 it asked for (the next k, or workspace slack).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void F32Rows6x8Scaled(float* src, long srcStride, Vector256<float> alpha, float* dst)
    {
        // SAFETY: 6 rows × 8 floats readable at src; 50 floats writable at dst (see summary).
        Store(alpha * Avx.LoadVector256(src), alpha * Avx.LoadVector256(src + srcStride),
            alpha * Avx.LoadVector256(src + 2 * srcStride), alpha * Avx.LoadVector256(src + 3 * srcStride),
            alpha * Avx.LoadVector256(src + 4 * srcStride), alpha * Avx.LoadVector256(src + 5 * srcStride),
            Vector256<float>.Zero, Vector256<float>.Zero, dst, GemmBlocking.MR);
    }

    /// <summary>8 bf16 → 8 f32: zero-extend to 32 bits, then move the bits into the high half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(ushort* src) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(src), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* dst, long dstStride)
    {
        // Pairs of rows interleaved per 128-bit lane: t0 = (r0[0], r1[0], r0[1], r1[1] | r0[4], r1[4], r0[5], r1[5]).
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        // Four rows per column: s0 = (r0..r3 [0] | r0..r3 [4]), s1 = ([1] | [5]), s2 = ([2] | [6]), s3 = ([3] | [7]).
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        // SAFETY: 8 rows × 8 floats writable at dst (caller's contract), written in increasing row order.
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(s3, s7, 0x31));
    }
}
