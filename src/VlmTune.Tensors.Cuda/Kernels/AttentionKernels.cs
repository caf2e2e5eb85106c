using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

/// <summary>
/// Sizes of one attention call, passed by value to the attention kernels. Tile sizes are chosen on the host
/// (<see cref="AttentionKernels.Tiles"/>) so that the shared buffers below hold them.
/// </summary>
public struct AttnArgs
{
    public int B, H, Hkv, T, S, D;
    /// <summary>Query rows and key rows per tile.</summary>
    public int BQ, BK;
    public int Causal, QOffset, HasMask;
    public float Scale;
}

/// <summary>
/// Blocked (flash-style) scaled-dot-product attention on SIMT cores. Legend as in the CPU backend: q (B,H,T,D);
/// k, v (B,Hkv,S,D); G = H/Hkv query heads per kv head (query head h reads kv head h / G); query i sits at position
/// i + QOffset and, when causal, sees keys j ≤ i + QOffset; keyMask (B,S) integer, 0 = masked key. Tensors are
/// reached through <see cref="KTensor"/> (any 4-D strides, f32/bf16/f16, computed in f32).
/// <para>
/// Shared memory holds one query tile and one key tile (rows padded to D + 1 floats so that threads reading
/// different rows hit different banks) and a BQ×BK score tile; the T×S score matrix never exists in global memory.
/// Every buffer is at most <see cref="QBuf"/>/<see cref="KBuf"/>/<see cref="PBuf"/> floats, so each kernel stays
/// under the 48 KB of static shared memory a block may use; tiles shrink as D grows (32×32 at D = 64, 16×16 at
/// D = 128). Threads walk tile elements with stride Group.DimX and rows with warps, so any group and warp size works.
/// </para>
/// Forward: per (b, h, query tile) an online softmax over the key tiles: m (row max), l (row sum of exp(s − m)),
/// acc (Σ p·v), rescaled by exp(m_old − m_new); o = acc / l, lse = m + log l (−∞ and o = 0 for a row that sees no key).
/// Backward (FlashAttention-2, no atomics): Δ_i = Σ dO∘O per row; the key/value kernel owns a key tile of one kv
/// head and walks all its query heads and query tiles in a fixed order, recomputing P = exp(s − lse) per tile:
/// dV += Pᵀ·dO, dS = P∘(dO·Vᵀ − Δ), dK += scale·dSᵀ·Q (so the GQA sum over query heads is deterministic); the query
/// kernel owns a query tile and walks the key tiles: dQ += scale·dS·K. All three gradients are written.
/// </summary>
public static class AttentionKernels
{
    /// <summary>Largest head size (rows are D + 1 floats in shared memory).</summary>
    public const int MaxD = 128;
    /// <summary>Largest tile side (rows of a query or key tile).</summary>
    public const int MaxTile = 64;
    /// <summary>Floats of one query-tile / key-tile buffer (32 rows at D = 64) and of a score tile.</summary>
    public const int QBuf = 32 * 65, KBuf = 32 * 65, PBuf = 32 * 32;
    /// <summary>Key/value backward kernel: its query buffers are half size (it holds four key-tile buffers).</summary>
    public const int QBufKv = 16 * 65, PBufKv = 16 * 32;

    /// <summary>
    /// Tile sizes for head size <paramref name="d"/> and buffers of the given floats: rows fit the buffers, BQ·BK fits
    /// the score tile, each at most <paramref name="cap"/>; a short query side (decode) leaves room for longer key tiles.
    /// </summary>
    public static (int BQ, int BK) Tiles(int d, int t, int qBuf, int kBuf, int pBuf, int cap)
    {
        int dp = d + 1;
        cap = Math.Clamp(cap, 1, MaxTile);
        int bq = Math.Max(1, Math.Min(cap, qBuf / dp));
        int bk = Math.Max(1, Math.Min(cap, kBuf / dp));
        bq = Math.Min(bq, Math.Max(1, t));
        while (bq * bk > pBuf)
        {
            if (bq >= bk) bq = Math.Max(1, bq / 2);
            else bk = Math.Max(1, bk / 2);
        }
        bk = Math.Max(bk, Math.Min(Math.Min(cap, kBuf / dp), pBuf / bq));
        return (bq, bk);
    }

    static float Score(float dot, float scale, bool visible) => visible ? dot * scale : float.NegativeInfinity;

    /// <summary>Writes a 2×2 block of a row-major buffer (row stride <paramref name="ld"/>); a second row or column of −1 is absent.</summary>
    static void Store2x2(ArrayView<float> buf, int ld, int r0, int r1, int c0, int c1, float v00, float v01, float v10, float v11)
    {
        buf[r0 * ld + c0] = v00;
        if (c1 >= 0) buf[r0 * ld + c1] = v01;
        if (r1 >= 0)
        {
            buf[r1 * ld + c0] = v10;
            if (c1 >= 0) buf[r1 * ld + c1] = v11;
        }
    }

    /// <summary>P = exp(scale·dot − lse) where visible (0 elsewhere or for a row with lse = −∞); dS = P∘(dp − Δ).</summary>
    static void ProbAndGrad(ArrayView<float> sP, ArrayView<float> sdS, int at, bool visible, float lse, float dot, float dpv, float delta, float scale)
    {
        float p = 0f, ds = 0f;
        if (visible && lse != float.NegativeInfinity)
        {
            p = KMath.Exp(dot * scale - lse);
            ds = p * (dpv - delta);
        }
        sP[at] = p;
        sdS[at] = ds;
    }

    static float WarpMax(float x)
    {
        for (int off = Warp.WarpSize / 2; off > 0; off /= 2) x = MathF.Max(x, Warp.ShuffleXor(x, off));
        return x;
    }

    static float WarpSum(float x)
    {
        for (int off = Warp.WarpSize / 2; off > 0; off /= 2) x += Warp.ShuffleXor(x, off);
        return x;
    }

    /// <summary>
    /// The backward score stage over a rows × kn tile: P and dS for query rows i and keys j (tile-relative); key j is
    /// visible to row i when its mask flag is set and, causal, j ≤ i + <paramref name="lastOffset"/>. Each thread
    /// takes a 2×2 block: rows (i0, i0 + ⌈rows/2⌉) × keys (j0, j0 + ⌈kn/2⌉).
    /// </summary>
    static void ScoresAndGrads(ArrayView<float> sQ, ArrayView<float> sG, ArrayView<float> sK, ArrayView<float> sV,
        ArrayView<int> sKm, ArrayView<float> sLse, ArrayView<float> sDel, ArrayView<float> sP, ArrayView<float> sdS,
        int rows, int kn, int d, int bk, int lastOffset, int causal, float scale)
    {
        int dp = d + 1, rh = (rows + 1) >> 1, kh = (kn + 1) >> 1;
        for (int e = Group.IdxX; e < rh * kh; e += Group.DimX)
        {
            int i0 = e / kh, j0 = e - i0 * kh, i1 = i0 + rh, j1 = j0 + kh;
            bool r1 = i1 < rows, c1 = j1 < kn;
            int ib = r1 ? i1 : i0, jb = c1 ? j1 : j0;
            int qa = i0 * dp, qb = ib * dp, ka = j0 * dp, kb = jb * dp;
            float s00 = 0f, s01 = 0f, s10 = 0f, s11 = 0f, g00 = 0f, g01 = 0f, g10 = 0f, g11 = 0f;
            for (int xa = qa, xb = qb, ya = ka, yb = kb, end = qa + d; xa < end; xa++, xb++, ya++, yb++)
            {
                float x0 = sQ[xa], x1 = sQ[xb], y0 = sK[ya], y1 = sK[yb];
                float u0 = sG[xa], u1 = sG[xb], w0 = sV[ya], w1 = sV[yb];
                s00 += x0 * y0;
                s01 += x0 * y1;
                s10 += x1 * y0;
                s11 += x1 * y1;
                g00 += u0 * w0;
                g01 += u0 * w1;
                g10 += u1 * w0;
                g11 += u1 * w1;
            }
            int last0 = causal != 0 ? i0 + lastOffset : kn, last1 = causal != 0 ? i1 + lastOffset : kn;
            bool m0 = sKm[j0] != 0, m1 = sKm[jb] != 0;
            float l0 = sLse[i0], l1 = sLse[ib], d0 = sDel[i0], d1 = sDel[ib];
            ProbAndGrad(sP, sdS, i0 * bk + j0, m0 && j0 <= last0, l0, s00, g00, d0, scale);
            if (c1) ProbAndGrad(sP, sdS, i0 * bk + j1, m1 && j1 <= last0, l0, s01, g01, d0, scale);
            if (r1)
            {
                ProbAndGrad(sP, sdS, i1 * bk + j0, m0 && j0 <= last1, l1, s10, g10, d1, scale);
                if (c1) ProbAndGrad(sP, sdS, i1 * bk + j1, m1 && j1 <= last1, l1, s11, g11, d1, scale);
            }
        }
    }

    /// <summary>o (B,H,T,D) and lse (B,H,T); one group per (b, h, query tile), grid-stride over those tasks.</summary>
    [GpuKernel(KernelGrouping.Explicit, NoSpill = true)]
    public static void Forward(KTensor q, KTensor k, KTensor v, KTensor mask, KTensor o, KTensor lse, AttnArgs a)
    {
        var sQ = SharedMemory.Allocate<float>(QBuf);
        var sA = SharedMemory.Allocate<float>(QBuf);
        var sK = SharedMemory.Allocate<float>(KBuf);
        var sV = SharedMemory.Allocate<float>(KBuf);
        var sS = SharedMemory.Allocate<float>(PBuf);
        var sM = SharedMemory.Allocate<float>(MaxTile);
        var sL = SharedMemory.Allocate<float>(MaxTile);
        var sC = SharedMemory.Allocate<float>(MaxTile);
        var sKm = SharedMemory.Allocate<int>(MaxTile);

        int tid = Group.IdxX, nt = Group.DimX;
        int lane = Warp.LaneIdx, ws = Warp.WarpSize, warp = Warp.WarpIdx, nw = Math.Max(1, nt / ws);
        int d = a.D, dp = d + 1, dh = (d + 1) >> 1, bq = a.BQ, bk = a.BK, g = a.H / a.Hkv;
        int qTiles = (a.T + bq - 1) / bq;
        long tasks = (long)a.B * a.H * qTiles;
        for (long task = Grid.IdxX; task < tasks; task += Grid.DimX)
        {
            int bh = (int)(task / qTiles), q0 = (int)(task % qTiles) * bq;
            int bi = bh / a.H, hi = bh % a.H, kvh = hi / g;
            int rows = Math.Min(bq, a.T - q0);
            long qBase = q.Offset + bi * q.Strides.A0 + hi * q.Strides.A1 + q0 * q.Strides.A2;
            long oBase = o.Offset + bi * o.Strides.A0 + hi * o.Strides.A1 + q0 * o.Strides.A2;
            long kBase = k.Offset + bi * k.Strides.A0 + kvh * k.Strides.A1;
            long vBase = v.Offset + bi * v.Strides.A0 + kvh * v.Strides.A1;
            long mBase = mask.Offset + bi * mask.Strides.A0;

            for (int e = tid; e < rows * d; e += nt)
            {
                int i = e / d, c = e - i * d;
                sQ[i * dp + c] = q.Load(qBase + i * q.Strides.A2 + c * q.Strides.A3);
                sA[i * dp + c] = 0f;
            }
            for (int i = tid; i < rows; i += nt)
            {
                sM[i] = float.NegativeInfinity;
                sL[i] = 0f;
            }

            int lastKey = a.Causal != 0 ? Math.Min(a.S, q0 + rows + a.QOffset) : a.S;
            for (int k0 = 0; k0 < lastKey; k0 += bk)
            {
                int kn = Math.Min(bk, lastKey - k0);
                Group.Barrier();
                for (int e = tid; e < kn * d; e += nt)
                {
                    int j = e / d, c = e - j * d;
                    sK[j * dp + c] = k.Load(kBase + (k0 + j) * k.Strides.A2 + c * k.Strides.A3);
                    sV[j * dp + c] = v.Load(vBase + (k0 + j) * v.Strides.A2 + c * v.Strides.A3);
                }
                for (int j = tid; j < kn; j += nt)
                    sKm[j] = a.HasMask == 0 || mask.LoadInt(mBase + (k0 + j) * mask.Strides.A1) != 0 ? 1 : 0;
                Group.Barrier();

                // scores s = scale·q·k (−∞ where the key is masked or in the causal future), a 2×2 block per thread
                int rh = (rows + 1) >> 1, kh = (kn + 1) >> 1;
                for (int e = tid; e < rh * kh; e += nt)
                {
                    int i0 = e / kh, j0 = e - i0 * kh, i1 = i0 + rh, j1 = j0 + kh;
                    int qa = i0 * dp, qb = (i1 < rows ? i1 : i0) * dp, ka = j0 * dp, kb = (j1 < kn ? j1 : j0) * dp;
                    float s00 = 0f, s01 = 0f, s10 = 0f, s11 = 0f;
                    // running indices (not base + c): ILGPU's O2 code placement would recompute the bases in the loop
                    for (int xa = qa, xb = qb, ya = ka, yb = kb, end = qa + d; xa < end; xa++, xb++, ya++, yb++)
                    {
                        float x0 = sQ[xa], x1 = sQ[xb], y0 = sK[ya], y1 = sK[yb];
                        s00 += x0 * y0;
                        s01 += x0 * y1;
                        s10 += x1 * y0;
                        s11 += x1 * y1;
                    }
                    // last visible key of each row, relative to the tile (causal)
                    int last0 = a.Causal != 0 ? q0 + i0 + a.QOffset - k0 : kn, last1 = last0 + rh;
                    sS[i0 * bk + j0] = Score(s00, a.Scale, sKm[j0] != 0 && j0 <= last0);
                    if (j1 < kn) sS[i0 * bk + j1] = Score(s01, a.Scale, sKm[j1] != 0 && j1 <= last0);
                    if (i1 < rows)
                    {
                        sS[i1 * bk + j0] = Score(s10, a.Scale, sKm[j0] != 0 && j0 <= last1);
                        if (j1 < kn) sS[i1 * bk + j1] = Score(s11, a.Scale, sKm[j1] != 0 && j1 <= last1);
                    }
                }
                Group.Barrier();

                // online softmax, one warp per row: p = exp(s − m_new), l = l·corr + Σp
                for (int i = warp; i < rows; i += nw)
                {
                    float mx = float.NegativeInfinity;
                    for (int j = lane; j < kn; j += ws) mx = MathF.Max(mx, sS[i * bk + j]);
                    mx = WarpMax(mx);
                    float mOld = sM[i], mNew = MathF.Max(mOld, mx);
                    bool none = mNew == float.NegativeInfinity;
                    float corr = none ? 1f : KMath.Exp(mOld - mNew);
                    float sum = 0f;
                    for (int j = lane; j < kn; j += ws)
                    {
                        float p = none ? 0f : KMath.Exp(sS[i * bk + j] - mNew);
                        sS[i * bk + j] = p;
                        sum += p;
                    }
                    sum = WarpSum(sum);
                    if (lane == 0)
                    {
                        sL[i] = sL[i] * corr + sum;
                        sM[i] = mNew;
                        sC[i] = corr;
                    }
                }
                Group.Barrier();

                // acc = acc·corr + P·V: rows (i0, i0 + rh) × columns (c0, c0 + dh) per thread
                for (int e = tid; e < rh * dh; e += nt)
                {
                    int i0 = e / dh, c0 = e - i0 * dh, i1 = i0 + rh, c1 = c0 + dh;
                    int ib = i1 < rows ? i1 : i0, cb = c1 < d ? c1 : c0;
                    float corr0 = sC[i0], corr1 = sC[ib];
                    float a00 = sA[i0 * dp + c0] * corr0, a01 = sA[i0 * dp + cb] * corr0;
                    float a10 = sA[ib * dp + c0] * corr1, a11 = sA[ib * dp + cb] * corr1;
                    for (int pa = i0 * bk, pb = ib * bk, va = c0, vb = cb, end = i0 * bk + kn; pa < end; pa++, pb++, va += dp, vb += dp)
                    {
                        float p0 = sS[pa], p1 = sS[pb], v0 = sV[va], v1 = sV[vb];
                        a00 += p0 * v0;
                        a01 += p0 * v1;
                        a10 += p1 * v0;
                        a11 += p1 * v1;
                    }
                    Store2x2(sA, dp, i0, i1 < rows ? i1 : -1, c0, c1 < d ? c1 : -1, a00, a01, a10, a11);
                }
            }
            Group.Barrier();

            for (int e = tid; e < rows * d; e += nt)
            {
                int i = e / d, c = e - i * d;
                float l = sL[i];
                o.Store(oBase + i * o.Strides.A2 + c * o.Strides.A3, l == 0f ? 0f : sA[i * dp + c] * (1f / l));
            }
            for (int i = tid; i < rows; i += nt)
            {
                float l = sL[i];
                long at = lse.Offset + bi * lse.Strides.A0 + hi * lse.Strides.A1 + (q0 + i) * lse.Strides.A2;
                lse.Store(at, l == 0f ? float.NegativeInfinity : sM[i] + KMath.Log(l));
            }
            Group.Barrier();
        }
    }

    /// <summary>delta[(b·H + h)·T + t] = Σ_d dO·O; one warp per row.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void Delta(KTensor o, KTensor dO, ArrayView<float> delta, AttnArgs a)
    {
        int lane = Warp.LaneIdx, ws = Warp.WarpSize;
        int nw = Math.Max(1, Group.DimX / ws);
        long rowsTotal = (long)a.B * a.H * a.T;
        for (long r = (long)Grid.IdxX * nw + Warp.WarpIdx; r < rowsTotal; r += (long)Grid.DimX * nw)
        {
            int t = (int)(r % a.T);
            long bh = r / a.T;
            int hi = (int)(bh % a.H), bi = (int)(bh / a.H);
            long ob = o.Offset + bi * o.Strides.A0 + hi * o.Strides.A1 + t * o.Strides.A2;
            long gb = dO.Offset + bi * dO.Strides.A0 + hi * dO.Strides.A1 + t * dO.Strides.A2;
            float sum = 0f;
            for (int c = lane; c < a.D; c += ws) sum += dO.Load(gb + c * dO.Strides.A3) * o.Load(ob + c * o.Strides.A3);
            sum = WarpSum(sum);
            if (lane == 0) delta[r] = sum;
        }
    }

    /// <summary>
    /// dk, dv (B,Hkv,S,D) written: one group per (b, kv head, key tile) walks the G query heads of that kv head and
    /// their query tiles in order, accumulating in shared memory.
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit, NoSpill = true)]
    public static void BackwardKeyValue(KTensor q, KTensor k, KTensor v, KTensor mask, KTensor lse, KTensor dO,
        ArrayView<float> delta, KTensor dk, KTensor dv, AttnArgs a)
    {
        var sK = SharedMemory.Allocate<float>(KBuf);
        var sV = SharedMemory.Allocate<float>(KBuf);
        var sdK = SharedMemory.Allocate<float>(KBuf);
        var sdV = SharedMemory.Allocate<float>(KBuf);
        var sQ = SharedMemory.Allocate<float>(QBufKv);
        var sG = SharedMemory.Allocate<float>(QBufKv);
        var sP = SharedMemory.Allocate<float>(PBufKv);
        var sdS = SharedMemory.Allocate<float>(PBufKv);
        var sLse = SharedMemory.Allocate<float>(MaxTile);
        var sDel = SharedMemory.Allocate<float>(MaxTile);
        var sKm = SharedMemory.Allocate<int>(MaxTile);

        int tid = Group.IdxX, nt = Group.DimX;
        int d = a.D, dp = d + 1, dh = (d + 1) >> 1, bq = a.BQ, bk = a.BK, g = a.H / a.Hkv;
        int kTiles = (a.S + bk - 1) / bk;
        long tasks = (long)a.B * a.Hkv * kTiles;
        for (long task = Grid.IdxX; task < tasks; task += Grid.DimX)
        {
            int bkv = (int)(task / kTiles), k0 = (int)(task % kTiles) * bk;
            int bi = bkv / a.Hkv, kvh = bkv % a.Hkv;
            int kn = Math.Min(bk, a.S - k0), kh = (kn + 1) >> 1;
            long kBase = k.Offset + bi * k.Strides.A0 + kvh * k.Strides.A1 + k0 * k.Strides.A2;
            long vBase = v.Offset + bi * v.Strides.A0 + kvh * v.Strides.A1 + k0 * v.Strides.A2;
            long mBase = mask.Offset + bi * mask.Strides.A0 + k0 * mask.Strides.A1;
            for (int e = tid; e < kn * d; e += nt)
            {
                int j = e / d, c = e - j * d;
                sK[j * dp + c] = k.Load(kBase + j * k.Strides.A2 + c * k.Strides.A3);
                sV[j * dp + c] = v.Load(vBase + j * v.Strides.A2 + c * v.Strides.A3);
                sdK[j * dp + c] = 0f;
                sdV[j * dp + c] = 0f;
            }
            for (int j = tid; j < kn; j += nt)
                sKm[j] = a.HasMask == 0 || mask.LoadInt(mBase + j * mask.Strides.A1) != 0 ? 1 : 0;

            // the first query that can see key k0 (causal): i + QOffset ≥ k0
            int qStart = a.Causal != 0 ? Math.Max(0, k0 - a.QOffset) : 0;
            for (int hg = 0; hg < g; hg++)
            {
                int hi = kvh * g + hg;
                long qHead = q.Offset + bi * q.Strides.A0 + hi * q.Strides.A1;
                long gHead = dO.Offset + bi * dO.Strides.A0 + hi * dO.Strides.A1;
                long lHead = lse.Offset + bi * lse.Strides.A0 + hi * lse.Strides.A1;
                long dHead = ((long)bi * a.H + hi) * a.T;
                for (int q0 = qStart; q0 < a.T; q0 += bq)
                {
                    int rows = Math.Min(bq, a.T - q0);
                    Group.Barrier();
                    for (int e = tid; e < rows * d; e += nt)
                    {
                        int i = e / d, c = e - i * d;
                        sQ[i * dp + c] = q.Load(qHead + (q0 + i) * q.Strides.A2 + c * q.Strides.A3);
                        sG[i * dp + c] = dO.Load(gHead + (q0 + i) * dO.Strides.A2 + c * dO.Strides.A3);
                    }
                    for (int i = tid; i < rows; i += nt)
                    {
                        sLse[i] = lse.Load(lHead + (q0 + i) * lse.Strides.A2);
                        sDel[i] = delta[dHead + q0 + i];
                    }
                    Group.Barrier();

                    // P = exp(scale·q·k − lse) where visible; dS = P∘(dO·v − Δ); a 2×2 block per thread
                    ScoresAndGrads(sQ, sG, sK, sV, sKm, sLse, sDel, sP, sdS, rows, kn, d, bk, q0 - k0 + a.QOffset, a.Causal, a.Scale);
                    Group.Barrier();

                    // dV += Pᵀ·dO, dK += dSᵀ·Q (scale applied at the end): keys (j0, j0 + kh) × columns (c0, c0 + dh)
                    for (int e = tid; e < kh * dh; e += nt)
                    {
                        int j0 = e / dh, c0 = e - j0 * dh, j1 = j0 + kh, c1 = c0 + dh;
                        int jb = j1 < kn ? j1 : j0, cb = c1 < d ? c1 : c0;
                        float v00 = sdV[j0 * dp + c0], v01 = sdV[j0 * dp + cb], v10 = sdV[jb * dp + c0], v11 = sdV[jb * dp + cb];
                        float k00 = sdK[j0 * dp + c0], k01 = sdK[j0 * dp + cb], k10 = sdK[jb * dp + c0], k11 = sdK[jb * dp + cb];
                        for (int pa = j0, pb = jb, ga = c0, gb = cb, end = rows * bk; pa < end; pa += bk, pb += bk, ga += dp, gb += dp)
                        {
                            float p0 = sP[pa], p1 = sP[pb], s0 = sdS[pa], s1 = sdS[pb];
                            float g0 = sG[ga], g1 = sG[gb], x0 = sQ[ga], x1 = sQ[gb];
                            v00 += p0 * g0;
                            v01 += p0 * g1;
                            v10 += p1 * g0;
                            v11 += p1 * g1;
                            k00 += s0 * x0;
                            k01 += s0 * x1;
                            k10 += s1 * x0;
                            k11 += s1 * x1;
                        }
                        int r1 = j1 < kn ? j1 : -1, cc1 = c1 < d ? c1 : -1;
                        Store2x2(sdV, dp, j0, r1, c0, cc1, v00, v01, v10, v11);
                        Store2x2(sdK, dp, j0, r1, c0, cc1, k00, k01, k10, k11);
                    }
                }
            }
            Group.Barrier();

            long dkBase = dk.Offset + bi * dk.Strides.A0 + kvh * dk.Strides.A1 + k0 * dk.Strides.A2;
            long dvBase = dv.Offset + bi * dv.Strides.A0 + kvh * dv.Strides.A1 + k0 * dv.Strides.A2;
            for (int e = tid; e < kn * d; e += nt)
            {
                int j = e / d, c = e - j * d;
                dk.Store(dkBase + j * dk.Strides.A2 + c * dk.Strides.A3, sdK[j * dp + c] * a.Scale);
                dv.Store(dvBase + j * dv.Strides.A2 + c * dv.Strides.A3, sdV[j * dp + c]);
            }
            Group.Barrier();
        }
    }

    /// <summary>dq (B,H,T,D) written: one group per (b, h, query tile) walks the key tiles it can see.</summary>
    [GpuKernel(KernelGrouping.Explicit, NoSpill = true)]
    public static void BackwardQuery(KTensor q, KTensor k, KTensor v, KTensor mask, KTensor lse, KTensor dO,
        ArrayView<float> delta, KTensor dq, AttnArgs a)
    {
        var sQ = SharedMemory.Allocate<float>(QBuf);
        var sG = SharedMemory.Allocate<float>(QBuf);
        var sdQ = SharedMemory.Allocate<float>(QBuf);
        var sK = SharedMemory.Allocate<float>(KBuf);
        var sV = SharedMemory.Allocate<float>(KBuf);
        var sdS = SharedMemory.Allocate<float>(PBuf);
        var sLse = SharedMemory.Allocate<float>(MaxTile);
        var sDel = SharedMemory.Allocate<float>(MaxTile);
        var sKm = SharedMemory.Allocate<int>(MaxTile);

        int tid = Group.IdxX, nt = Group.DimX;
        int d = a.D, dp = d + 1, dh = (d + 1) >> 1, bq = a.BQ, bk = a.BK, g = a.H / a.Hkv;
        int qTiles = (a.T + bq - 1) / bq;
        long tasks = (long)a.B * a.H * qTiles;
        for (long task = Grid.IdxX; task < tasks; task += Grid.DimX)
        {
            int bh = (int)(task / qTiles), q0 = (int)(task % qTiles) * bq;
            int bi = bh / a.H, hi = bh % a.H, kvh = hi / g;
            int rows = Math.Min(bq, a.T - q0);
            long qBase = q.Offset + bi * q.Strides.A0 + hi * q.Strides.A1 + q0 * q.Strides.A2;
            long gBase = dO.Offset + bi * dO.Strides.A0 + hi * dO.Strides.A1 + q0 * dO.Strides.A2;
            long kBase = k.Offset + bi * k.Strides.A0 + kvh * k.Strides.A1;
            long vBase = v.Offset + bi * v.Strides.A0 + kvh * v.Strides.A1;
            long mBase = mask.Offset + bi * mask.Strides.A0;
            long lBase = lse.Offset + bi * lse.Strides.A0 + hi * lse.Strides.A1 + q0 * lse.Strides.A2;
            long dBase = (long)bh * a.T + q0;

            for (int e = tid; e < rows * d; e += nt)
            {
                int i = e / d, c = e - i * d;
                sQ[i * dp + c] = q.Load(qBase + i * q.Strides.A2 + c * q.Strides.A3);
                sG[i * dp + c] = dO.Load(gBase + i * dO.Strides.A2 + c * dO.Strides.A3);
                sdQ[i * dp + c] = 0f;
            }
            for (int i = tid; i < rows; i += nt)
            {
                sLse[i] = lse.Load(lBase + i * lse.Strides.A2);
                sDel[i] = delta[dBase + i];
            }

            int lastKey = a.Causal != 0 ? Math.Min(a.S, q0 + rows + a.QOffset) : a.S;
            for (int k0 = 0; k0 < lastKey; k0 += bk)
            {
                int kn = Math.Min(bk, lastKey - k0);
                Group.Barrier();
                for (int e = tid; e < kn * d; e += nt)
                {
                    int j = e / d, c = e - j * d;
                    sK[j * dp + c] = k.Load(kBase + (k0 + j) * k.Strides.A2 + c * k.Strides.A3);
                    sV[j * dp + c] = v.Load(vBase + (k0 + j) * v.Strides.A2 + c * v.Strides.A3);
                }
                for (int j = tid; j < kn; j += nt)
                    sKm[j] = a.HasMask == 0 || mask.LoadInt(mBase + (k0 + j) * mask.Strides.A1) != 0 ? 1 : 0;
                Group.Barrier();

                // dS, a 2×2 block per thread (P is not needed here: it goes to the same tile and dS overwrites it)
                ScoresAndGrads(sQ, sG, sK, sV, sKm, sLse, sDel, sdS, sdS, rows, kn, d, bk, q0 - k0 + a.QOffset, a.Causal, a.Scale);
                Group.Barrier();

                // dQ += dS·K (scale applied at the end): rows (i0, i0 + rh) × columns (c0, c0 + dh)
                int rh = (rows + 1) >> 1;
                for (int e = tid; e < rh * dh; e += nt)
                {
                    int i0 = e / dh, c0 = e - i0 * dh, i1 = i0 + rh, c1 = c0 + dh;
                    int ib = i1 < rows ? i1 : i0, cb = c1 < d ? c1 : c0;
                    float a00 = sdQ[i0 * dp + c0], a01 = sdQ[i0 * dp + cb], a10 = sdQ[ib * dp + c0], a11 = sdQ[ib * dp + cb];
                    for (int sa = i0 * bk, sb = ib * bk, ya = c0, yb = cb, end = i0 * bk + kn; sa < end; sa++, sb++, ya += dp, yb += dp)
                    {
                        float s0 = sdS[sa], s1 = sdS[sb], y0 = sK[ya], y1 = sK[yb];
                        a00 += s0 * y0;
                        a01 += s0 * y1;
                        a10 += s1 * y0;
                        a11 += s1 * y1;
                    }
                    Store2x2(sdQ, dp, i0, i1 < rows ? i1 : -1, c0, c1 < d ? c1 : -1, a00, a01, a10, a11);
                }
            }
            Group.Barrier();

            long dqBase = dq.Offset + bi * dq.Strides.A0 + hi * dq.Strides.A1 + q0 * dq.Strides.A2;
            for (int e = tid; e < rows * d; e += nt)
            {
                int i = e / d, c = e - i * d;
                dq.Store(dqBase + i * dq.Strides.A2 + c * dq.Strides.A3, sdQ[i * dp + c] * a.Scale);
            }
            Group.Barrier();
        }
    }
}
