using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static VlmTune.Tensors.Cpu.Kernels.GemmBlocking;

namespace VlmTune.Tensors.Cpu.Kernels;

// One MR×NR (6×16) tile: c(6,16) (+)= Σ_k a[k](6) ⊗ b[k](16), a and b from the packed panels (GemmPacking).
// The Vector256 kernel keeps the tile in 12 registers (6 rows × 2 vectors), plus 2 for b and 1 for a
// broadcast — 15 of the 16 ymm registers. engine.md §3: on this AVX-512 EPYC the Vector256 kernel beats a
// 6×32 Vector512 one (512-bit ops are double-pumped), so there is no Vector512 kernel.

/// <summary>The innermost GEMM kernels: a Vector256+FMA one and a portable scalar one.</summary>
internal static unsafe class GemmMicroKernel
{
    /// <summary>True when this machine can run the Vector256+FMA kernel.</summary>
    public static readonly bool Vector256Supported = Vector256.IsHardwareAccelerated && Fma.IsSupported;

    /// <summary>True when the Vector256+FMA kernel runs; otherwise the scalar kernel does. Tests turn it off.</summary>
    public static bool UseVector256 { get; set; } = Vector256Supported;

    /// <summary>
    /// Full tile: c[r*ldc + j] = (addC ? c[r*ldc + j] : 0) + Σ_k a[k*MR + r]·b[k*NR + j], r &lt; 6, j &lt; 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(int kc, float* a, float* b, float* c, long ldc, bool addC)
    {
        if (UseVector256) TileVector256(kc, a, b, c, ldc, addC);
        else TileScalar(kc, a, b, c, ldc, addC);
    }

    /// <summary>Partial tile (mr ≤ 6 rows, nr ≤ 16 columns): computes the full tile aside, writes mr×nr.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    public static void EdgeTile(int kc, float* a, float* b, float* c, long ldc, bool addC, int mr, int nr)
    {
        float* tile = stackalloc float[MR * NR];
        Tile(kc, a, b, tile, NR, addC: false);
        // SAFETY: rows < mr and columns < nr of this tile lie inside C (the caller clips them to M and N).
        for (int r = 0; r < mr; r++)
        {
            float* cr = c + r * ldc;
            float* tr = tile + r * NR;
            if (addC)
                for (int j = 0; j < nr; j++) cr[j] += tr[j];
            else
                for (int j = 0; j < nr; j++) cr[j] = tr[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    private static void TileVector256(int kc, float* a, float* b, float* c, long ldc, bool addC)
    {
        // The C tile is read (or written) only after the k loop: start fetching its 6 rows now, so the
        // ~1,500-cycle loop hides the memory latency instead of stalling on it at the end.
        // SAFETY: prefetch never faults; the addresses are the tile's own rows (first and last element).
        for (int r = 0; r < MR; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + NR - 1);
        }

        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;

        // SAFETY: a holds kc*MR floats and b kc*NR floats (one packed panel each); the loop reads exactly those.
        for (int k = 0; k < kc; k++, a += MR, b += NR)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> ak = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(ak, b0, c00);
            c01 = Fma.MultiplyAdd(ak, b1, c01);
            ak = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(ak, b0, c10);
            c11 = Fma.MultiplyAdd(ak, b1, c11);
            ak = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(ak, b0, c20);
            c21 = Fma.MultiplyAdd(ak, b1, c21);
            ak = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(ak, b0, c30);
            c31 = Fma.MultiplyAdd(ak, b1, c31);
            ak = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(ak, b0, c40);
            c41 = Fma.MultiplyAdd(ak, b1, c41);
            ak = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(ak, b0, c50);
            c51 = Fma.MultiplyAdd(ak, b1, c51);
        }

        // SAFETY: the caller passes a full 6×16 tile inside C (or the 6×16 scratch tile with ldc = 16).
        StoreRow(c, c00, c01, addC);
        StoreRow(c + ldc, c10, c11, addC);
        StoreRow(c + 2 * ldc, c20, c21, addC);
        StoreRow(c + 3 * ldc, c30, c31, addC);
        StoreRow(c + 4 * ldc, c40, c41, addC);
        StoreRow(c + 5 * ldc, c50, c51, addC);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector256<float> v0, Vector256<float> v1, bool addC)
    {
        if (addC)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 8);
        }
        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    private static void TileScalar(int kc, float* a, float* b, float* c, long ldc, bool addC)
    {
        float* acc = stackalloc float[MR * NR];
        new Span<float>(acc, MR * NR).Clear();
        // SAFETY: same extents as TileVector256; acc is a local 6×16 scratch.
        for (int k = 0; k < kc; k++, a += MR, b += NR)
        {
            for (int r = 0; r < MR; r++)
            {
                float ar = a[r];
                float* accRow = acc + r * NR;
                for (int j = 0; j < NR; j++) accRow[j] += ar * b[j];
            }
        }
        for (int r = 0; r < MR; r++)
        {
            float* cr = c + r * ldc;
            float* accRow = acc + r * NR;
            for (int j = 0; j < NR; j++) cr[j] = addC ? cr[j] + accRow[j] : accRow[j];
        }
    }
}
