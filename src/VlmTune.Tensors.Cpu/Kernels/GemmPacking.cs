using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static VlmTune.Tensors.Cpu.Kernels.GemmBlocking;

namespace VlmTune.Tensors.Cpu.Kernels;

// Packed layouts (both zero-padded at the edges so the micro-kernel always computes a full MR×width tile):
//   packed A block: ceil(mc/MR) panels; panel r holds op(A)[i0+r*MR .. +MR, p0 .. p0+kc) as kc groups of MR
//                   floats (k-major), each already multiplied by alpha.            size: ceil(mc/MR)·MR·kc
//   packed B block: ceil(nc/w) panels of width w = the kernel's tile width (16 or 32); panel j holds
//                   op(B)[p0 .. p0+kc, j0+j*w .. +w) as kc rows of w floats (k-major). bf16 is widened
//                   here, exactly.                                                  size: ceil(nc/w)·w·kc

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
    /// Packs panels [panelBegin, panelEnd) of width <paramref name="width"/> (a multiple of 8) of the op(B)
    /// block (rows p0..p0+kc, columns j0..j0+nc) into <paramref name="dst"/>, the start of the whole packed
    /// block (panel j at j·kc·width).
    /// </summary>
    public static void PackB(in GemmProblem p, int p0, int kc, int j0, int nc, int panelBegin, int panelEnd,
        int width, float* dst)
    {
        // SAFETY: panels [panelBegin, panelEnd) of this block lie inside the packed-B workspace (nc ≤ NC, kc ≤ KC).
        for (int jp = panelBegin; jp < panelEnd; jp++)
        {
            int col = j0 + jp * width;
            int nr = Math.Min(width, j0 + nc - col);
            float* panel = dst + (long)jp * kc * width;
            if (p.B != null)
                PackPanelF32(p.B, p.Ldb, p.TransB, p0, kc, col, nr, width, panel);
            else
                PackPanelBf16(p.Bh, p.Ldb, p.TransB, p0, kc, col, nr, width, panel);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    private static void PackPanelF32(float* B, long ldb, bool transB, int p0, int kc, int col, int nr, int width,
        float* panel)
    {
        // SAFETY: rows p0..p0+kc and columns col..col+nr of op(B) lie inside B (validated by Gemm); panel holds
        // kc*width floats inside the packed-B workspace. Vector paths run only for full panels (nr == width).
        bool full = nr == width;
        if (!transB)
        {
            float* src = B + p0 * ldb + col;
            for (int k = 0; k < kc; k++)
            {
                float* s = src + k * ldb;
                float* d = panel + k * width;
                int c = 0;
                if (full)
                    for (; c < width; c += 8) Vector256.Store(Vector256.Load(s + c), d + c);
                for (; c < nr; c++) d[c] = s[c];
                for (; c < width; c++) d[c] = 0f;
            }
            return;
        }

        // B stored (N,K): each packed column c is a contiguous row of B; transpose 8×8 blocks into k-major order.
        float* rows = B + col * ldb + p0;
        int k0 = 0;
        if (full && GemmTranspose.IsSupported)
        {
            for (; k0 + 8 <= kc; k0 += 8)
                for (int g = 0; g < width; g += 8)
                    GemmTranspose.F32x8x8(rows + g * ldb + k0, ldb, panel + k0 * width + g, width);
        }
        for (int k = k0; k < kc; k++)
        {
            float* d = panel + k * width;
            int c = 0;
            for (; c < nr; c++) d[c] = rows[c * ldb + k];
            for (; c < width; c++) d[c] = 0f;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    private static void PackPanelBf16(ushort* B, long ldb, bool transB, int p0, int kc, int col, int nr, int width,
        float* panel)
    {
        // SAFETY: as in PackPanelF32; B holds ushort bf16 bit patterns.
        bool full = nr == width;
        if (!transB)
        {
            ushort* src = B + p0 * ldb + col;
            for (int k = 0; k < kc; k++)
            {
                ushort* s = src + k * ldb;
                float* d = panel + k * width;
                int c = 0;
                if (full)
                {
                    for (; c < width; c += 16)
                    {
                        // 16 bf16 → two Vector256<float>: widen to 32 bits, move into the high half.
                        (Vector256<uint> lo, Vector256<uint> hi) = Vector256.Widen(Vector256.Load(s + c));
                        Vector256.Store(Vector256.ShiftLeft(lo, 16).AsSingle(), d + c);
                        Vector256.Store(Vector256.ShiftLeft(hi, 16).AsSingle(), d + c + 8);
                    }
                }
                for (; c < nr; c++) d[c] = GemmReference.Bf16ToSingle(s[c]);
                for (; c < width; c++) d[c] = 0f;
            }
            return;
        }

        ushort* rows = B + col * ldb + p0;
        int k0 = 0;
        if (full && GemmTranspose.IsSupported)
        {
            for (; k0 + 8 <= kc; k0 += 8)
                for (int g = 0; g < width; g += 8)
                    GemmTranspose.Bf16x8x8(rows + g * ldb + k0, ldb, panel + k0 * width + g, width);
        }
        for (int k = k0; k < kc; k++)
        {
            float* d = panel + k * width;
            int c = 0;
            for (; c < nr; c++) d[c] = GemmReference.Bf16ToSingle(rows[c * ldb + k]);
            for (; c < width; c++) d[c] = 0f;
        }
    }
}
