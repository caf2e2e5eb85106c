using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

// Norms family: LayerNorm, RMSNorm, softmax / log-softmax over the rows of (N,C). N = rows, C = features.
// Forward caches per row: LayerNorm mean, rstd (N); RMSNorm rstd (N). Backward: dx assigned; dw, db accumulated (+=)
// through per-chunk column partials (ColumnPartials, then ColumnFinish in a fixed order: deterministic, no atomics).
// Row kernels: one RowTeam (a warp for short rows, else a group) per row, grid-stride over rows; statistics in f32.
// Any float dtype and any strides through KTensor; element (r, i) of a 2-D view is Offset + r·Strides[0] + i·Strides[1].
public static class NormKernels
{
    static long E(KTensor t, long r, long i) => t.Offset + r * t.Strides.A0 + i * t.Strides.A1;
    static long E(KTensor t, long i) => t.Offset + i * t.Strides.A0;

    /// <summary>y = (x − μ)·rstd·w + b, μ = Σx/C, rstd = 1/√(Σ(x − μ)²/C + eps); mean, rstd cached.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void LayerNorm(KTensor x, KTensor w, KTensor b, int hasBias, float eps, KTensor y, KTensor mean, KTensor rstd, int warpMode)
    {
        var shared = SharedMemory.Allocate<float>(RowTeam.SharedFloats);
        var team = RowTeam.Create(warpMode);
        long n = x.Shape.A0, c = x.Shape.A1;
        int phase = 0;
        for (long r = team.Index; r < n; r += team.Count)
        {
            float s = 0f;
            for (long i = team.Lane; i < c; i += team.Size) s += x.Load(E(x, r, i));
            float mu = team.Sum(s, shared, phase++) / c;
            float q = 0f;
            for (long i = team.Lane; i < c; i += team.Size)
            {
                float d = x.Load(E(x, r, i)) - mu;
                q += d * d;
            }
            float rs = 1f / MathF.Sqrt(team.Sum(q, shared, phase++) / c + eps);
            if (team.Lane == 0)
            {
                mean.Store(E(mean, r), mu);
                rstd.Store(E(rstd, r), rs);
            }
            for (long i = team.Lane; i < c; i += team.Size)
            {
                float v = (x.Load(E(x, r, i)) - mu) * rs * w.Load(E(w, i));
                if (hasBias != 0) v += b.Load(E(b, i));
                y.Store(E(y, r, i), v);
            }
        }
    }

    /// <summary>dx = rstd·(dy·w − mean(dy·w) − x̂·mean(dy·w·x̂)), x̂ = (x − μ)·rstd.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void LayerNormBackward(KTensor x, KTensor w, KTensor mean, KTensor rstd, KTensor dy, KTensor dx, int warpMode)
    {
        var shared = SharedMemory.Allocate<float>(RowTeam.SharedFloats);
        var team = RowTeam.Create(warpMode);
        long n = x.Shape.A0, c = x.Shape.A1;
        int phase = 0;
        for (long r = team.Index; r < n; r += team.Count)
        {
            float mu = mean.Load(E(mean, r)), rs = rstd.Load(E(rstd, r));
            float sg = 0f, sgx = 0f;
            for (long i = team.Lane; i < c; i += team.Size)
            {
                float xh = (x.Load(E(x, r, i)) - mu) * rs, gw = dy.Load(E(dy, r, i)) * w.Load(E(w, i));
                sg += gw;
                sgx += gw * xh;
            }
            var sums = team.Sum2(sg, sgx, shared, phase++);
            float mg = sums.A / c, mgx = sums.B / c;
            for (long i = team.Lane; i < c; i += team.Size)
            {
                float xh = (x.Load(E(x, r, i)) - mu) * rs;
                dx.Store(E(dx, r, i), rs * (dy.Load(E(dy, r, i)) * w.Load(E(w, i)) - mg - xh * mgx));
            }
        }
    }

    /// <summary>y = x·rstd·w, rstd = 1/√(Σx²/C + eps); rstd cached.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void RmsNorm(KTensor x, KTensor w, float eps, KTensor y, KTensor rstd, int warpMode)
    {
        var shared = SharedMemory.Allocate<float>(RowTeam.SharedFloats);
        var team = RowTeam.Create(warpMode);
        long n = x.Shape.A0, c = x.Shape.A1;
        int phase = 0;
        for (long r = team.Index; r < n; r += team.Count)
        {
            float q = 0f;
            for (long i = team.Lane; i < c; i += team.Size)
            {
                float v = x.Load(E(x, r, i));
                q += v * v;
            }
            float rs = 1f / MathF.Sqrt(team.Sum(q, shared, phase++) / c + eps);
            if (team.Lane == 0) rstd.Store(E(rstd, r), rs);
            for (long i = team.Lane; i < c; i += team.Size)
                y.Store(E(y, r, i), x.Load(E(x, r, i)) * rs * w.Load(E(w, i)));
        }
    }

    /// <summary>dx = rstd·(dy·w − x·rstd·mean(dy·w·x̂)), x̂ = x·rstd.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void RmsNormBackward(KTensor x, KTensor w, KTensor rstd, KTensor dy, KTensor dx, int warpMode)
    {
        var shared = SharedMemory.Allocate<float>(RowTeam.SharedFloats);
        var team = RowTeam.Create(warpMode);
        long n = x.Shape.A0, c = x.Shape.A1;
        int phase = 0;
        for (long r = team.Index; r < n; r += team.Count)
        {
            float rs = rstd.Load(E(rstd, r));
            float sgx = 0f;
            for (long i = team.Lane; i < c; i += team.Size)
                sgx += dy.Load(E(dy, r, i)) * w.Load(E(w, i)) * (x.Load(E(x, r, i)) * rs);
            float m = team.Sum(sgx, shared, phase++) / c;
            for (long i = team.Lane; i < c; i += team.Size)
            {
                float xv = x.Load(E(x, r, i));
                dx.Store(E(dx, r, i), rs * (dy.Load(E(dy, r, i)) * w.Load(E(w, i)) - xv * rs * m));
            }
        }
    }

    /// <summary>
    /// Column partial sums for dw (and db) over chunks of <paramref name="chunkRows"/> rows:
    /// partial[p·C + i] = Σ_{r in chunk p} dy[r,i]·x̂[r,i], and with <paramref name="wantDb"/> also
    /// partial[(P + p)·C + i] = Σ dy[r,i]. x̂ = (x − mean)·rstd when <paramref name="centered"/> (LayerNorm), x·rstd
    /// otherwise (RMSNorm; mean is not read). One thread per (chunk, column), columns adjacent (coalesced).
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void ColumnPartials(KTensor x, KTensor dy, KTensor mean, KTensor rstd, int centered, int wantDb,
        ArrayView<float> partial, int chunkRows)
    {
        long n = x.Shape.A0, c = x.Shape.A1;
        long parts = (n + chunkRows - 1) / chunkRows;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long item = Grid.GlobalIndex.X; item < parts * c; item += stride)
        {
            long p = item / c, i = item % c;
            long r1 = Math.Min(n, (p + 1) * chunkRows);
            float sw = 0f, sb = 0f;
            for (long r = p * chunkRows; r < r1; r++)
            {
                float g = dy.Load(E(dy, r, i)), rs = rstd.Load(E(rstd, r));
                float xh = centered != 0 ? (x.Load(E(x, r, i)) - mean.Load(E(mean, r))) * rs : x.Load(E(x, r, i)) * rs;
                sw += g * xh;
                sb += g;
            }
            partial[item] = sw;
            if (wantDb != 0) partial[parts * c + item] = sb;
        }
    }

    /// <summary>dw[i] += Σ_p partial[p·C + i], db[i] += Σ_p partial[(P + p)·C + i], p in order.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void ColumnFinish(ArrayView<float> partial, int parts, KTensor dw, int hasDw, KTensor db, int hasDb)
    {
        long c = hasDw != 0 ? dw.Shape.A0 : db.Shape.A0;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < c; i += stride)
        {
            if (hasDw != 0)
            {
                float s = 0f;
                for (long p = 0; p < parts; p++) s += partial[p * c + i];
                dw.Store(E(dw, i), dw.Load(E(dw, i)) + s);
            }
            if (hasDb != 0)
            {
                float s = 0f;
                for (long p = 0; p < parts; p++) s += partial[(parts + p) * c + i];
                db.Store(E(db, i), db.Load(E(db, i)) + s);
            }
        }
    }

    /// <summary>Softmax (y = exp(x − m)·(1/s)) or log-softmax (y = x − m − ln s), m = max, s = Σ exp(x − m), online.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void Softmax(KTensor x, KTensor y, int log, int warpMode)
    {
        var shared = SharedMemory.Allocate<float>(RowTeam.SharedFloats);
        var team = RowTeam.Create(warpMode);
        long n = x.Shape.A0, c = x.Shape.A1;
        int phase = 0;
        for (long r = team.Index; r < n; r += team.Count)
        {
            var st = Online.Empty;
            for (long i = team.Lane; i < c; i += team.Size) st = Online.Push(st, x.Load(E(x, r, i)));
            st = team.MaxSum(st, shared, phase++);
            float m = st.A, inv = 1f / st.B, lse = KMath.Log(st.B);
            for (long i = team.Lane; i < c; i += team.Size)
            {
                float d = x.Load(E(x, r, i)) - m;
                y.Store(E(y, r, i), log != 0 ? d - lse : KMath.Exp(d) * inv);
            }
        }
    }

    /// <summary>From the forward output y: softmax dx = (dy − Σ y·dy)·y; log-softmax dx = dy − exp(y)·Σ dy.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void SoftmaxBackward(KTensor y, KTensor dy, KTensor dx, int log, int warpMode)
    {
        var shared = SharedMemory.Allocate<float>(RowTeam.SharedFloats);
        var team = RowTeam.Create(warpMode);
        long n = y.Shape.A0, c = y.Shape.A1;
        int phase = 0;
        for (long r = team.Index; r < n; r += team.Count)
        {
            float s = 0f;
            for (long i = team.Lane; i < c; i += team.Size)
            {
                float g = dy.Load(E(dy, r, i));
                s += log != 0 ? g : y.Load(E(y, r, i)) * g;
            }
            s = team.Sum(s, shared, phase++);
            for (long i = team.Lane; i < c; i += team.Size)
            {
                float yv = y.Load(E(y, r, i)), g = dy.Load(E(dy, r, i));
                dx.Store(E(dx, r, i), log != 0 ? KMath.Exp(yv) * -s + g : (g - s) * yv);
            }
        }
    }
}
