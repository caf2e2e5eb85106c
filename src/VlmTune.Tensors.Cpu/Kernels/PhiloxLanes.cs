using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VlmTune.Tensors.Cpu.Kernels;

// Philox4x32-10 (VlmTune.Tensors.Philox) for runs of consecutive counters, 8 (Vector512) or 4 (Vector256) counters
// per vector. Each 64-bit lane holds one 32-bit word of one counter's state; vpmuludq multiplies the low 32 bits of
// each lane into a full 64-bit product, which is exactly the scalar generator's (ulong)M * c. Word 0 of each block is
// all the dropout mask and the uniform fill use, so that is what comes out. Bit-identical to Philox.Block by
// construction (the same integer operations); PhiloxLanesTests checks it on every path and tail length.

/// <summary>Word 0 of Philox4x32-10 blocks for consecutive counters, vectorised.</summary>
internal static unsafe class PhiloxLanes
{
    const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>The widest path this machine runs: 8 (AVX-512), 4 (AVX2) or 1 (scalar).</summary>
    public static int Lanes => Avx512F.IsSupported ? 8 : Avx2.IsSupported ? 4 : 1;

    /// <summary>dst[i] = word 0 of Philox.Block(seed, counter + i) for i &lt; n, using at most <paramref name="lanes"/>
    /// lanes (tests pass 1 and 4 to reach the narrower paths on an AVX-512 machine).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    public static void Word0(ulong seed, ulong counter, uint* dst, int n, int lanes = 8)
    {
        int i = 0;
        // SAFETY: every store writes dst[i .. i+lanes) with i + lanes ≤ n; the caller owns n uints at dst.
        if (lanes >= 8 && Avx512F.IsSupported)
        {
            var step = Vector512.Create(8UL);
            var c = Vector512.Create(counter) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
            for (; i + 8 <= n; i += 8, c += step)
                Avx512F.ConvertToVector256UInt32(Block512(seed, c)).Store(dst + i);
        }
        if (lanes >= 4 && Avx2.IsSupported)
        {
            var step = Vector256.Create(4UL);
            var c = Vector256.Create(counter + (ulong)i) + Vector256.Create(0UL, 1, 2, 3);
            for (; i + 4 <= n; i += 4, c += step)
            {
                Vector256<ulong> w = Block256(seed, c);
                // The low halves of the four 64-bit lanes, in order.
                Vector256<uint> packed = Avx2.PermuteVar8x32(w.AsUInt32(), Vector256.Create(0u, 2, 4, 6, 0, 0, 0, 0));
                packed.GetLower().Store(dst + i);
            }
        }
        for (; i < n; i++) dst[i] = Philox.Block(seed, counter + (ulong)i).Item1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<ulong> Block512(ulong seed, Vector512<ulong> counter)
    {
        var low = Vector512.Create(0xFFFF_FFFFUL);
        var m0 = Vector512.Create((ulong)M0).AsUInt32();
        var m1 = Vector512.Create((ulong)M1).AsUInt32();
        Vector512<ulong> c0 = counter & low, c1 = counter >>> 32, c2 = Vector512<ulong>.Zero, c3 = Vector512<ulong>.Zero;
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int r = 0; r < 10; r++)
        {
            Vector512<ulong> p0 = Avx512F.Multiply(c0.AsUInt32(), m0), p1 = Avx512F.Multiply(c2.AsUInt32(), m1);
            Vector512<ulong> n0 = (p1 >>> 32) ^ c1 ^ Vector512.Create((ulong)k0);
            Vector512<ulong> n2 = (p0 >>> 32) ^ c3 ^ Vector512.Create((ulong)k1);
            c1 = p1 & low;
            c3 = p0 & low;
            c0 = n0;
            c2 = n2;
            k0 += W0;
            k1 += W1;
        }
        return c0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<ulong> Block256(ulong seed, Vector256<ulong> counter)
    {
        var low = Vector256.Create(0xFFFF_FFFFUL);
        var m0 = Vector256.Create((ulong)M0).AsUInt32();
        var m1 = Vector256.Create((ulong)M1).AsUInt32();
        Vector256<ulong> c0 = counter & low, c1 = counter >>> 32, c2 = Vector256<ulong>.Zero, c3 = Vector256<ulong>.Zero;
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int r = 0; r < 10; r++)
        {
            Vector256<ulong> p0 = Avx2.Multiply(c0.AsUInt32(), m0), p1 = Avx2.Multiply(c2.AsUInt32(), m1);
            Vector256<ulong> n0 = (p1 >>> 32) ^ c1 ^ Vector256.Create((ulong)k0);
            Vector256<ulong> n2 = (p0 >>> 32) ^ c3 ^ Vector256.Create((ulong)k1);
            c1 = p1 & low;
            c3 = p0 & low;
            c0 = n0;
            c2 = n2;
            k0 += W0;
            k1 += W1;
        }
        return c0;
    }
}
