using System.Numerics.Tensors;
using VlmTune.Tensors.Cpu.Kernels;

namespace VlmTune.Tensors.Cpu;

// Blocked scaled-dot-product attention (flash-attention style); masked keys (keyMask 0) score −∞: queries in blocks of BQ = 64 rows, keys in blocks of
// BK = 256 (softmax rows vectorised: max, exp, sum over a 256-key row); the T×S score matrix never exists whole. Legend: q (B,H,T,D); k, v (B,Hkv,S,D) — in the forward k and v may
// be views with longer batch/head strides (a preallocated KV cache), each head's S×D rows contiguous; G = H/Hkv query heads per
// kv head; lse (B,H,T) cached = m + log l of the online softmax (−∞ for a row that sees no key; its output is 0).
// Backward (assigned): recomputes P = exp(scale·q·kᵀ − lse) per block; dV += Pᵀ·dO, dS = P∘(dO·Vᵀ − rowsum(dO∘O)),
// dQ += scale·dS·K, dK += scale·dSᵀ·Q; per-query-head dK/dV are summed over each kv group at the end.
public sealed unsafe partial class CpuBackend
{
    const int BQ = 64, BK = 256;

    public void Attention(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse)
    {
        var (o32, lse32) = (Out(o, false), Out(lse, false));
        AttentionF32(W(q), W(k), W(v), keyMask, p, o32, lse32);
        Store(o32, o);
        Store(lse32, lse);
    }

    void AttentionF32(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse)
    {
        using var keep = Hold(q, k, v, keyMask, o, lse);
        var (b, h, t, d) = q.Shape.Dims4();
        var (_, hkv, s, _) = k.Shape.Dims4();
        int g = h / hkv, qBlocks = (t + BQ - 1) / BQ;
        float* qp = F(q), kp = F(k), vp = F(v), op = F(o), lp = F(lse);
        // k, v: each head's (S,D) block is row-major; batch and head strides may be those of a longer cache buffer.
        long kB = k.Strides[0], kH = k.Strides[1], vB = v.Strides[0], vH = v.Strides[1];
        int* mask = keyMask == null ? null : (int*)Base(keyMask);
        Par.For(b * h * qBlocks, 1, Threads, (start, end) =>
        {
            var scoreBuf = new float[BQ * BK];
            var acc = new float[BQ * d];
            var m = new float[BQ];
            var l = new float[BQ];
            fixed (float* sc = scoreBuf, ac = acc)
            {
                for (int task = start; task < end; task++)
                {
                    int bh = task / qBlocks, q0 = task % qBlocks * BQ;
                    int bi = bh / h, hi = bh % h, kvh = hi / g;
                    int rows = Math.Min(BQ, t - q0);
                    float* Q = qp + ((long)bh * t + q0) * d;
                    float* K = kp + bi * kB + kvh * kH;
                    float* V = vp + bi * vB + kvh * vH;
                    int* km = mask == null ? null : mask + (long)bi * s;
                    int lastKey = p.Causal ? Math.Min(s, q0 + rows + p.QOffset) : s;
                    Array.Fill(m, float.NegativeInfinity);
                    Array.Clear(l);
                    Array.Clear(acc);
                    for (int k0 = 0; k0 < lastKey; k0 += BK)
                    {
                        int kn = Math.Min(BK, lastKey - k0);
                        Gemm.F32(false, true, rows, kn, d, p.Scale, Q, d, K + (long)k0 * d, d, sc, BK, false, 1);
                        for (int i = 0; i < rows; i++)
                        {
                            float* row = sc + i * BK;
                            int visible = p.Causal ? Math.Min(kn, q0 + i + p.QOffset - k0 + 1) : kn;
                            if (visible <= 0)
                            {
                                new Span<float>(row, kn).Clear();
                                continue;
                            }
                            if (km != null) for (int j = 0; j < visible; j++) if (km[k0 + j] == 0) row[j] = float.NegativeInfinity;
                            var scores = new Span<float>(row, visible);
                            float mNew = MathF.Max(m[i], TensorPrimitives.Max(scores));
                            if (float.IsNegativeInfinity(mNew))
                            {
                                new Span<float>(row, kn).Clear();
                                continue;
                            }
                            float corr = MathF.Exp(m[i] - mNew);
                            TensorPrimitives.Subtract(scores, mNew, scores);
                            TensorPrimitives.Exp(scores, scores);
                            new Span<float>(row + visible, kn - visible).Clear();
                            l[i] = l[i] * corr + TensorPrimitives.Sum(scores);
                            m[i] = mNew;
                            if (corr != 1f)
                            {
                                var accRow = new Span<float>(ac + i * d, d);
                                TensorPrimitives.Multiply(accRow, corr, accRow);
                            }
                        }
                        Gemm.F32(false, false, rows, d, kn, 1f, sc, BK, V + (long)k0 * d, d, ac, d, true, 1);
                    }
                    float* O = op + ((long)bh * t + q0) * d;
                    float* L = lp + (long)bh * t + q0;
                    for (int i = 0; i < rows; i++)
                    {
                        if (l[i] == 0f)
                        {
                            for (int c = 0; c < d; c++) O[i * d + c] = 0f;
                            L[i] = float.NegativeInfinity;
                            continue;
                        }
                        float inv = 1f / l[i];
                        for (int c = 0; c < d; c++) O[i * d + c] = ac[i * d + c] * inv;
                        L[i] = m[i] + MathF.Log(l[i]);
                    }
                }
            }
        });
    }

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse,
        Tensor dO, Tensor dq, Tensor dk, Tensor dv)
    {
        var (dq32, dk32, dv32) = (Out(dq, false), Out(dk, false), Out(dv, false));
        AttentionBackwardF32(W(q), W(k), W(v), keyMask, p, W(o), W(lse), W(dO), dq32, dk32, dv32);
        Store(dq32, dq);
        Store(dk32, dk);
        Store(dv32, dv);
    }

    void AttentionBackwardF32(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse,
        Tensor dO, Tensor dq, Tensor dk, Tensor dv)
    {
        using var keep = Hold(q, k, v, keyMask, o, lse, dO, dq, dk, dv);
        var (b, h, t, d) = q.Shape.Dims4();
        var (_, hkv, s, _) = k.Shape.Dims4();
        int g = h / hkv;
        float* qp = F(q), kp = F(k), vp = F(v), op = F(o), lp = F(lse), gp = F(dO), dqp = F(dq);
        int* mask = keyMask == null ? null : (int*)Base(keyMask);
        float* dkp = F(dk), dvp = F(dv);
        // With grouped kv heads (g > 1): per-query-head key/value gradients, summed over each kv group afterwards.
        // Without (g = 1, the vision tower): query head bh's dK/dV are rows bh of dk/dv, accumulated in place.
        bool grouped = g > 1;
        var dkh = grouped ? new float[(long)b * h * s * d] : null;
        var dvh = grouped ? new float[(long)b * h * s * d] : null;
        fixed (float* dkhp = dkh, dvhp = dvh)
        {
            float* dkb = grouped ? dkhp : dkp, dvb = grouped ? dvhp : dvp;
            Par.For(b * h, 1, Threads, (start, end) =>
            {
                var pBuf = new float[BQ * BK];
                var dpBuf = new float[BQ * BK];
                var di = new float[BQ];
                fixed (float* P = pBuf, dP = dpBuf)
                {
                    for (int bh = start; bh < end; bh++)
                    {
                        int bi = bh / h, kvh = bh % h / g;
                        float* K = kp + ((long)bi * hkv + kvh) * s * d;
                        float* V = vp + ((long)bi * hkv + kvh) * s * d;
                        float* dK = dkb + (long)bh * s * d, dV = dvb + (long)bh * s * d;
                        int* km = mask == null ? null : mask + (long)bi * s;
                        new Span<float>(dqp + (long)bh * t * d, t * d).Clear();
                        if (!grouped)
                        {
                            new Span<float>(dK, s * d).Clear();
                            new Span<float>(dV, s * d).Clear();
                        }
                        for (int q0 = 0; q0 < t; q0 += BQ)
                        {
                            int rows = Math.Min(BQ, t - q0);
                            float* Q = qp + ((long)bh * t + q0) * d, O = op + ((long)bh * t + q0) * d;
                            float* G = gp + ((long)bh * t + q0) * d, dQ = dqp + ((long)bh * t + q0) * d;
                            float* L = lp + (long)bh * t + q0;
                            for (int i = 0; i < rows; i++)
                                di[i] = TensorPrimitives.Dot(new ReadOnlySpan<float>(G + i * d, d), new ReadOnlySpan<float>(O + i * d, d));
                            int lastKey = p.Causal ? Math.Min(s, q0 + rows + p.QOffset) : s;
                            for (int k0 = 0; k0 < lastKey; k0 += BK)
                            {
                                int kn = Math.Min(BK, lastKey - k0);
                                Gemm.F32(false, true, rows, kn, d, p.Scale, Q, d, K + (long)k0 * d, d, P, BK, false, 1);
                                for (int i = 0; i < rows; i++)
                                {
                                    // P = exp(S − lse) on the visible, unmasked keys; 0 elsewhere.
                                    int visible = p.Causal ? Math.Min(kn, q0 + i + p.QOffset - k0 + 1) : kn;
                                    float li = L[i];
                                    float* row = P + i * BK;
                                    if (visible <= 0 || float.IsNegativeInfinity(li))
                                    {
                                        new Span<float>(row, kn).Clear();
                                        continue;
                                    }
                                    var probs = new Span<float>(row, visible);
                                    TensorPrimitives.Subtract(probs, li, probs);
                                    TensorPrimitives.Exp(probs, probs);
                                    new Span<float>(row + visible, kn - visible).Clear();
                                    if (km != null) for (int j = 0; j < visible; j++) if (km[k0 + j] == 0) row[j] = 0f;
                                }
                                Gemm.F32(true, false, kn, d, rows, 1f, P, BK, G, d, dV + (long)k0 * d, d, true, 1);
                                Gemm.F32(false, true, rows, kn, d, 1f, G, d, V + (long)k0 * d, d, dP, BK, false, 1);
                                for (int i = 0; i < rows; i++)
                                {
                                    var dS = new Span<float>(dP + i * BK, kn);                  // dS = P ∘ (dP − di)
                                    TensorPrimitives.Subtract(dS, di[i], dS);
                                    TensorPrimitives.Multiply(dS, new ReadOnlySpan<float>(P + i * BK, kn), dS);
                                }
                                Gemm.F32(false, false, rows, d, kn, p.Scale, dP, BK, K + (long)k0 * d, d, dQ, d, true, 1);
                                Gemm.F32(true, false, kn, d, rows, p.Scale, dP, BK, Q, d, dK + (long)k0 * d, d, true, 1);
                            }
                        }
                    }
                }
            });
            if (!grouped) return;
            long block = (long)s * d;
            for (int bi = 0; bi < b; bi++)
                for (int kv = 0; kv < hkv; kv++)
                {
                    float* dkOut = dkp + ((long)bi * hkv + kv) * block, dvOut = dvp + ((long)bi * hkv + kv) * block;
                    new Span<float>(dkOut, (int)block).Clear();
                    new Span<float>(dvOut, (int)block).Clear();
                    for (int j = 0; j < g; j++)
                    {
                        long src = ((long)bi * h + kv * g + j) * block;
                        var dks = new ReadOnlySpan<float>(dkb + src, (int)block);
                        var dvs = new ReadOnlySpan<float>(dvb + src, (int)block);
                        TensorPrimitives.Add(new Span<float>(dkOut, (int)block), dks, new Span<float>(dkOut, (int)block));
                        TensorPrimitives.Add(new Span<float>(dvOut, (int)block), dvs, new Span<float>(dvOut, (int)block));
                    }
                }
        }
    }
}
