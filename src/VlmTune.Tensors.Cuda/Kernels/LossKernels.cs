using ILGPU;

namespace VlmTune.Tensors.Cuda.Kernels;

// Label log-probabilities over rows of logits (N,V), V = vocabulary (49,280 for SmolVLM): logp[n] = logits[n, label]
// − lse[n], 0 where label == ignoreIndex; lse (N) cached for the backward. The vocabulary is cut into chunks; a group
// reduces one (row, chunk) to an online (max, Σ exp(x − max)) pair in a scratch (N, chunks, 2), and a second pass
// combines a row's chunks in order (deterministic) — no softmax row is ever written to memory. The backward assigns
// dlogits[n,:] = dlogp[n]·(onehot(label) − exp(logits[n,:] − lse[n])), 0 for ignored rows. logits, dlogits: f32 or
// bf16, any strides; labels i32/i64.
public static class LossKernels
{
    /// <summary>partial[2·item], partial[2·item + 1] = (max, Σ exp(x − max)) of row item / chunks, chunk item % chunks.</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void ChunkStats(KTensor logits, ArrayView<float> partial, int chunk, int chunks)
    {
        var shared = SharedMemory.Allocate<float>(RowTeam.SharedFloats);
        var team = RowTeam.Create(0);
        long n = logits.Shape.A0, v = logits.Shape.A1;
        int phase = 0;
        for (long item = team.Index; item < n * chunks; item += team.Count)
        {
            long r = item / chunks, i0 = item % chunks * chunk, i1 = Math.Min(v, i0 + chunk);
            long row = logits.Offset + r * logits.Strides.A0;
            var st = Online.Empty;
            for (long i = i0 + team.Lane; i < i1; i += team.Size) st = Online.Push(st, logits.Load(row + i * logits.Strides.A1));
            st = team.MaxSum(st, shared, phase++);
            if (team.Lane == 0)
            {
                partial[2 * item] = st.A;
                partial[2 * item + 1] = st.B;
            }
        }
    }

    /// <summary>
    /// One thread per row: lse = m + ln s over the row's chunks (in order), logp = logits[label] − lse, 0 for an
    /// ignored label, NaN for a label outside [0, V) (a kernel cannot throw; the CPU backend does).
    /// </summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void RowLogProbs(KTensor logits, KTensor labels, int ignoreIndex, ArrayView<float> partial, int chunks, KTensor logp, KTensor lse)
    {
        long n = logits.Shape.A0, v = logits.Shape.A1;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long r = Grid.GlobalIndex.X; r < n; r += stride)
        {
            long first = r * chunks;
            var st = new Float2 { A = partial[2 * first], B = partial[2 * first + 1] };
            for (long k = 1; k < chunks; k++)
                st = Online.Combine(st, new Float2 { A = partial[2 * (first + k)], B = partial[2 * (first + k) + 1] });
            float l = st.A + KMath.Log(st.B);
            lse.Store(lse.Offset + r * lse.Strides.A0, l);
            long label = labels.LoadInt(labels.Offset + r * labels.Strides.A0);
            float lp = 0f;
            if (label != ignoreIndex)
                lp = (ulong)label < (ulong)v ? logits.Load(logits.Offset + r * logits.Strides.A0 + label * logits.Strides.A1) - l : float.NaN;
            logp.Store(logp.Offset + r * logp.Strides.A0, lp);
        }
    }

    /// <summary>dlogits[n, i] = exp(logits[n, i] − lse[n])·(−dlogp[n]) (+ dlogp[n] at the label); a group per (row, chunk).</summary>
    [GpuKernel(KernelGrouping.Explicit)]
    public static void LabelLogProbsBackward(KTensor logits, KTensor labels, int ignoreIndex, KTensor lse, KTensor dlogp, KTensor dlogits,
        int chunk, int chunks)
    {
        long n = logits.Shape.A0, v = logits.Shape.A1;
        for (long item = Grid.IdxX; item < n * chunks; item += Grid.DimX)
        {
            long r = item / chunks, i0 = item % chunks * chunk, i1 = Math.Min(v, i0 + chunk);
            long row = logits.Offset + r * logits.Strides.A0, drow = dlogits.Offset + r * dlogits.Strides.A0;
            long label = labels.LoadInt(labels.Offset + r * labels.Strides.A0);
            bool ignored = label == ignoreIndex;
            float g = dlogp.Load(dlogp.Offset + r * dlogp.Strides.A0), l = lse.Load(lse.Offset + r * lse.Strides.A0);
            for (long i = i0 + Group.IdxX; i < i1; i += Group.DimX)
            {
                float d = 0f;
                if (!ignored)
                {
                    d = KMath.Exp(logits.Load(row + i * logits.Strides.A1) - l) * -g;
                    if (i == label) d += g;
                }
                dlogits.Store(drow + i * dlogits.Strides.A1, d);
            }
        }
    }
}
