using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static VlmTune.Tensors.Cpu.Kernels.GemmBlocking;

namespace VlmTune.Tensors.Cpu.Kernels;

// Packed layouts (both zero-padded at the edges so the micro-kernel always computes a full MR×NR tile):
//   packed A block: ceil(mc/MR) panels; panel r holds op(A)[i0+r*MR .. +MR, p0 .. p0+kc) as kc groups of MR
//                   floats (k-major), each already multiplied by alpha.            size: ceil(mc/MR)·MR·kc
//   packed B block: ceil(nc/NR) panels; panel j holds op(B)[p0 .. p0+kc, j0+j*NR .. +NR) as kc rows of NR
//                   floats (k-major). bf16 is widened here, exactly.               size: ceil(nc/NR)·NR·kc

/// <summary>Copies blocks of op(A) and op(B) into the panel layouts the micro-kernel streams through.</summary>
internal static unsafe class GemmPacking
{
    /// <summary>Packs op(A)[i0..i0+mc, p0..p0+kc) scaled by alpha into <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    public static void PackA(in GemmProblem p, int i0, int mc, int p0, int kc, float* dst)
    {
        float alpha = p.Alpha;
        long lda = p.Lda;
        // SAFETY: rows i0..i0+mc and columns p0..p0+kc of op(A) lie inside A (validated by Gemm); dst holds
        // ceil(mc/MR)*MR*kc floats plus PackSlack (workspace sized for MC*KC with mc <= MC, kc <= KC).
        for (int ir = 0; ir < mc; ir += MR)
        {
            int mr = Math.Min(MR, mc - ir);
            if (p.TransA)
            {
                // A stored (K,M): the MR values of one k are contiguous.
                float* src = p.A + p0 * lda + i0 + ir;
                for (int k = 0; k < kc; k++, dst += MR)
                {
                    float* row = src + k * lda;
                    int r = 0;
                    for (; r < mr; r++) dst[r] = alpha * row[r];
                    for (; r < MR; r++) dst[r] = 0f;
                }
            }
            else
            {
                // A stored (M,K): gather one value from each of MR rows per k.
                float* src = p.A + (i0 + ir) * lda + p0;
                if (mr == MR && GemmTranspose.IsSupported)
                {
                    // 8 k at a time through an in-register transpose; the scalar loop finishes the panel and
                    // overwrites the 2 floats the last transpose spilled past its 48 (workspace has slack).
                    var alphaV = Vector256.Create(alpha);
                    int k = 0;
                    for (; k + 8 <= kc; k += 8) GemmTranspose.F32Rows6x8Scaled(src + k, lda, alphaV, dst + k * MR);
                    for (; k < kc; k++)
                        for (int r = 0; r < MR; r++) dst[k * MR + r] = alpha * src[r * lda + k];
                    dst += MR * kc;
                    continue;
                }
                for (int r = 0; r < MR; r++)
                {
                    float* row = src + r * lda;
                    float* d = dst + r;
                    if (r < mr)
                        for (int k = 0; k < kc; k++) d[k * MR] = alpha * row[k];
                    else
                        for (int k = 0; k < kc; k++) d[k * MR] = 0f;
                }
                dst += MR * kc;
            }
        }
    }

    /// <summary>
    /// Packs panels [panelBegin, panelEnd) of the op(B) block (rows p0..p0+kc, columns j0..j0+nc) into
    /// <paramref name="dst"/>, which points at the start of the whole packed block (panel j at j·kc·NR).
    /// </summary>
    public static void PackB(in GemmProblem p, int p0, int kc, int j0, int nc, int panelBegin, int panelEnd, float* dst)
    {
        for (int jp = panelBegin; jp < panelEnd; jp++)
        {
            int col = j0 + jp * NR;
            int nr = Math.Min(NR, j0 + nc - col);
            float* panel = dst + (long)jp * kc * NR;
            if (p.B != null)
                PackPanelF32(p.B, p.Ldb, p.TransB, p0, kc, col, nr, panel);
            else
                PackPanelBf16(p.Bh, p.Ldb, p.TransB, p0, kc, col, nr, panel);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    private static void PackPanelF32(float* B, long ldb, bool transB, int p0, int kc, int col, int nr, float* panel)
    {
        // SAFETY: rows p0..p0+kc and columns col..col+nr of op(B) lie inside B (validated by Gemm); panel holds
        // kc*NR floats inside the packed-B workspace.
        if (!transB)
        {
            float* src = B + p0 * ldb + col;
            if (nr == NR)
            {
                for (int k = 0; k < kc; k++)
                {
                    float* s = src + k * ldb;
                    Vector256.Store(Vector256.Load(s), panel + k * NR);
                    Vector256.Store(Vector256.Load(s + 8), panel + k * NR + 8);
                }
                return;
            }
            for (int k = 0; k < kc; k++)
            {
                float* s = src + k * ldb;
                float* d = panel + k * NR;
                int c = 0;
                for (; c < nr; c++) d[c] = s[c];
                for (; c < NR; c++) d[c] = 0f;
            }
            return;
        }

        // B stored (N,K): each packed column c is a contiguous row of B; transpose into k-major order.
        float* rows = B + col * ldb + p0;
        int k0 = 0;
        if (nr == NR && GemmTranspose.IsSupported)
        {
            for (; k0 + 8 <= kc; k0 += 8)
            {
                GemmTranspose.F32x8x8(rows + k0, ldb, panel + k0 * NR, NR);
                GemmTranspose.F32x8x8(rows + 8 * ldb + k0, ldb, panel + k0 * NR + 8, NR);
            }
        }
        for (int k = k0; k < kc; k++)
        {
            float* d = panel + k * NR;
            int c = 0;
            for (; c < nr; c++) d[c] = rows[c * ldb + k];
            for (; c < NR; c++) d[c] = 0f;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    private static void PackPanelBf16(ushort* B, long ldb, bool transB, int p0, int kc, int col, int nr, float* panel)
    {
        // SAFETY: as in PackPanelF32; B holds ushort bf16 bit patterns.
        if (!transB)
        {
            ushort* src = B + p0 * ldb + col;
            if (nr == NR)
            {
                for (int k = 0; k < kc; k++)
                {
                    // 16 bf16 → two Vector256<float>: widen to 32 bits, move into the high half.
                    (Vector256<uint> lo, Vector256<uint> hi) = Vector256.Widen(Vector256.Load(src + k * ldb));
                    Vector256.Store(Vector256.ShiftLeft(lo, 16).AsSingle(), panel + k * NR);
                    Vector256.Store(Vector256.ShiftLeft(hi, 16).AsSingle(), panel + k * NR + 8);
                }
                return;
            }
            for (int k = 0; k < kc; k++)
            {
                ushort* s = src + k * ldb;
                float* d = panel + k * NR;
                int c = 0;
                for (; c < nr; c++) d[c] = GemmReference.Bf16ToSingle(s[c]);
                for (; c < NR; c++) d[c] = 0f;
            }
            return;
        }

        ushort* rows = B + col * ldb + p0;
        int k0 = 0;
        if (nr == NR && GemmTranspose.IsSupported)
        {
            for (; k0 + 8 <= kc; k0 += 8)
            {
                GemmTranspose.Bf16x8x8(rows + k0, ldb, panel + k0 * NR, NR);
                GemmTranspose.Bf16x8x8(rows + 8 * ldb + k0, ldb, panel + k0 * NR + 8, NR);
            }
        }
        for (int k = k0; k < kc; k++)
        {
            float* d = panel + k * NR;
            int c = 0;
            for (; c < nr; c++) d[c] = GemmReference.Bf16ToSingle(rows[c * ldb + k]);
            for (; c < NR; c++) d[c] = 0f;
        }
    }
}
