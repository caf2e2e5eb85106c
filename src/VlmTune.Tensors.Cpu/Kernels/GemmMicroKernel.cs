using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static VlmTune.Tensors.Cpu.Kernels.GemmBlocking;

namespace VlmTune.Tensors.Cpu.Kernels;

// One MR×w tile (w = Width(kind): 16, or 32 for Vector512): c(6,w) (+)= Σ_k a[k](6) ⊗ b[k](w), a and b read
// from the packed panels (GemmPacking). The vector kernels keep the tile in 12 registers (6 rows × 2 vectors)
// plus 2 for b and 1 for the broadcast of a. Every kernel sums each element in the same order (k ascending,
// one fused multiply-add per k), so the Vector256 and Vector512 kernels give bitwise identical results.

/// <summary>The innermost GEMM kernels: Vector512+FMA, Vector256+FMA and portable scalar.</summary>
internal static unsafe class GemmMicroKernel
{
    /// <summary>The kernel new calls use; chosen at start-up, settable by tests.</summary>
    public static GemmKernelKind Kind { get; set; } = GemmKernelSelection.Select();

    /// <summary>Columns of a tile (and of a packed B panel) for a kernel.</summary>
    public static int Width(GemmKernelKind kind) => kind == GemmKernelKind.Vector512 ? 32 : 16;

    /// <summary>Full tile: c[r*ldc + j] = (addC ? c[r*ldc + j] : 0) + Σ_k a[k*MR + r]·b[k*w + j], r &lt; 6, j &lt; w.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(GemmKernelKind kind, int kc, float* a, float* b, float* c, long ldc, bool addC)
    {
        if (kind == GemmKernelKind.Vector512) TileVector512(kc, a, b, c, ldc, addC);
        else if (kind == GemmKernelKind.Vector256) TileVector256(kc, a, b, c, ldc, addC);
        else TileScalar(kc, a, b, c, ldc, addC);
    }

    /// <summary>Partial tile (mr ≤ 6 rows, nr ≤ w columns): computes the full tile aside, writes mr×nr.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    public static void EdgeTile(GemmKernelKind kind, int kc, float* a, float* b, float* c, long ldc, bool addC,
        int mr, int nr)
    {
        int width = Width(kind);
        float* tile = stackalloc float[MR * NRMax];
        Tile(kind, kc, a, b, tile, width, addC: false);
        // SAFETY: rows < mr and columns < nr of this tile lie inside C (the caller clips them to M and N).
        for (int r = 0; r < mr; r++)
        {
            float* cr = c + r * ldc;
            float* tr = tile + r * width;
            if (addC)
                for (int j = 0; j < nr; j++) cr[j] += tr[j];
            else
                for (int j = 0; j < nr; j++) cr[j] = tr[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    internal static void TileVector512(int kc, float* a, float* b, float* c, long ldc, bool addC)
    {
        // SAFETY: prefetch never faults; the addresses are the first and last element of the tile's 6 rows.
        // The tile is read only after the k loop, which hides the latency of fetching it.
        for (int r = 0; r < MR; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + 31);
        }

        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;

        // SAFETY: a holds kc*6 floats and b kc*32 floats (one packed panel each); the loop reads exactly those.
        for (int k = 0; k < kc; k++, a += MR, b += 32)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> ak = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(ak, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(ak, b1, c01);
            ak = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(ak, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(ak, b1, c11);
            ak = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(ak, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(ak, b1, c21);
            ak = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(ak, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(ak, b1, c31);
            ak = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(ak, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(ak, b1, c41);
            ak = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(ak, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(ak, b1, c51);
        }

        // SAFETY: the caller passes a full 6×32 tile inside C (or the scratch tile with ldc = 32).
        StoreRow(c, c00, c01, addC);
        StoreRow(c + ldc, c10, c11, addC);
        StoreRow(c + 2 * ldc, c20, c21, addC);
        StoreRow(c + 3 * ldc, c30, c31, addC);
        StoreRow(c + 4 * ldc, c40, c41, addC);
        StoreRow(c + 5 * ldc, c50, c51, addC);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    internal static void TileVector256(int kc, float* a, float* b, float* c, long ldc, bool addC)
    {
        // SAFETY: prefetch never faults; see TileVector512.
        for (int r = 0; r < MR; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + 15);
        }

        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;

        // SAFETY: a holds kc*6 floats and b kc*16 floats (one packed panel each); the loop reads exactly those.
        for (int k = 0; k < kc; k++, a += MR, b += 16)
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

        // SAFETY: the caller passes a full 6×16 tile inside C (or the scratch tile with ldc = 16).
        StoreRow(c, c00, c01, addC);
        StoreRow(c + ldc, c10, c11, addC);
        StoreRow(c + 2 * ldc, c20, c21, addC);
        StoreRow(c + 3 * ldc, c30, c31, addC);
        StoreRow(c + 4 * ldc, c40, c41, addC);
        StoreRow(c + 5 * ldc, c50, c51, addC);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector512<float> v0, Vector512<float> v1, bool addC)
    {
        if (addC)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
        }
        Vector512.Store(v0, c);
        Vector512.Store(v1, c + 16);
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
        const int W = 16;
        float* acc = stackalloc float[MR * W];
        new Span<float>(acc, MR * W).Clear();
        // SAFETY: same extents as TileVector256; acc is a local 6×16 scratch.
        for (int k = 0; k < kc; k++, a += MR, b += W)
        {
            for (int r = 0; r < MR; r++)
            {
                float ar = a[r];
                float* accRow = acc + r * W;
                for (int j = 0; j < W; j++) accRow[j] += ar * b[j];
            }
        }
        for (int r = 0; r < MR; r++)
        {
            float* cr = c + r * ldc;
            float* accRow = acc + r * W;
            for (int j = 0; j < W; j++) cr[j] = addC ? cr[j] + accRow[j] : accRow[j];
        }
    }
}
