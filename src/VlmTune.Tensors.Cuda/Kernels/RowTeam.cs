using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

/// <summary>
/// The threads that cooperate on one row in a row kernel: one warp (warp mode, launched with <c>WarpRows</c>, for short
/// rows) or one whole group (launched with <c>Rows</c>). Rows are grid-stride over teams: row = Index, Index + Count, …
/// and within a row a lane takes columns Lane, Lane + Size, …
/// <para>
/// Reductions are all-reduces: every lane returns the same bits, and the order of the additions depends only on the
/// launch geometry (deterministic). Within a warp a butterfly (ShuffleXor); across the warps of a group, lane 0 of
/// each warp writes its value to shared memory and every thread adds the warp values in warp order. Two shared slots
/// are used in turn, so one barrier per reduction is enough: pass <c>phase</c> one higher on every reduction of the
/// kernel (a thread that is one reduction ahead writes the other slot; two ahead is impossible across the barrier).
/// Assumes the group size is a multiple of the warp size (every launch of the backend is).
/// </para>
/// </summary>
public struct RowTeam
{
    /// <summary>Groups of at most 1024 threads and warps of at least 4.</summary>
    public const int MaxWarps = 256;
    /// <summary>Floats of shared memory a row kernel allocates for the team's reductions (two slots of two values).</summary>
    public const int SharedFloats = 2 * 2 * MaxWarps;

    public int Lane, Size, WarpMode;
    public long Index, Count;

    public static RowTeam Create(int warpMode)
    {
        var t = new RowTeam { WarpMode = warpMode };
        if (warpMode != 0)
        {
            int perGroup = Group.DimX / Warp.WarpSize;
            t.Lane = Warp.LaneIdx;
            t.Size = Warp.WarpSize;
            t.Index = (long)Grid.IdxX * perGroup + Warp.WarpIdx;
            t.Count = (long)Grid.DimX * perGroup;
        }
        else
        {
            t.Lane = Group.IdxX;
            t.Size = Group.DimX;
            t.Index = Grid.IdxX;
            t.Count = Grid.DimX;
        }
        return t;
    }

    static float WarpSum(float v)
    {
        for (int o = Warp.WarpSize / 2; o > 0; o >>= 1) v += Warp.ShuffleXor(v, o);
        return v;
    }

    /// <summary>Σ v over the team.</summary>
    public readonly float Sum(float v, ArrayView<float> shared, int phase)
    {
        v = WarpSum(v);
        if (WarpMode != 0) return v;
        int slot = (phase & 1) * 2 * MaxWarps;
        if (Warp.LaneIdx == 0) shared[slot + Warp.WarpIdx] = v;
        Group.Barrier();
        int warps = Group.DimX / Warp.WarpSize;
        float s = shared[slot];
        for (int w = 1; w < warps; w++) s += shared[slot + w];
        return s;
    }

    /// <summary>(Σ a, Σ b) over the team in one reduction.</summary>
    public readonly Float2 Sum2(float a, float b, ArrayView<float> shared, int phase)
    {
        a = WarpSum(a);
        b = WarpSum(b);
        if (WarpMode != 0) return new Float2 { A = a, B = b };
        int slot = (phase & 1) * 2 * MaxWarps;
        if (Warp.LaneIdx == 0)
        {
            shared[slot + Warp.WarpIdx] = a;
            shared[slot + MaxWarps + Warp.WarpIdx] = b;
        }
        Group.Barrier();
        int warps = Group.DimX / Warp.WarpSize;
        float sa = shared[slot], sb = shared[slot + MaxWarps];
        for (int w = 1; w < warps; w++)
        {
            sa += shared[slot + w];
            sb += shared[slot + MaxWarps + w];
        }
        return new Float2 { A = sa, B = sb };
    }

    /// <summary>
    /// Combines per-lane online-softmax states (A = running max, B = Σ exp(x − A)) over the team. The warp step ends
    /// with a broadcast from lane 0, since with FMA contraction the combine is not bitwise commutative.
    /// </summary>
    public readonly Float2 MaxSum(Float2 v, ArrayView<float> shared, int phase)
    {
        for (int o = Warp.WarpSize / 2; o > 0; o >>= 1)
        {
            var other = new Float2 { A = Warp.ShuffleXor(v.A, o), B = Warp.ShuffleXor(v.B, o) };
            v = Online.Combine(v, other);
        }
        v.A = Warp.Shuffle(v.A, 0);
        v.B = Warp.Shuffle(v.B, 0);
        if (WarpMode != 0) return v;
        int slot = (phase & 1) * 2 * MaxWarps;
        if (Warp.LaneIdx == 0)
        {
            shared[slot + Warp.WarpIdx] = v.A;
            shared[slot + MaxWarps + Warp.WarpIdx] = v.B;
        }
        Group.Barrier();
        int warps = Group.DimX / Warp.WarpSize;
        var s = new Float2 { A = shared[slot], B = shared[slot + MaxWarps] };
        for (int w = 1; w < warps; w++) s = Online.Combine(s, new Float2 { A = shared[slot + w], B = shared[slot + MaxWarps + w] });
        return s;
    }
}

public struct Float2
{
    public float A, B;
}

/// <summary>Online softmax state (max m, sum s of exp(x − m)): one pass over a row, never materialising it.</summary>
public static class Online
{
    public static Float2 Empty => new() { A = float.NegativeInfinity, B = 0f };

    /// <summary>Adds x to the state. −∞ contributes nothing; NaN makes the sum NaN.</summary>
    public static Float2 Push(Float2 st, float x)
    {
        if (x > st.A)
        {
            st.B = st.B * KMath.Exp(st.A - x) + 1f;
            st.A = x;
        }
        else if (x != float.NegativeInfinity) st.B += KMath.Exp(x - st.A);
        return st;
    }

    public static Float2 Combine(Float2 a, Float2 b)
    {
        float m = MathF.Max(a.A, b.A);
        if (m == float.NegativeInfinity) return new Float2 { A = m, B = a.B + b.B };
        return new Float2 { A = m, B = a.B * KMath.Exp(a.A - m) + b.B * KMath.Exp(b.A - m) };
    }
}
