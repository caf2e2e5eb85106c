namespace VlmTune.Tensors.Cpu;

// Fused AdamW (torch.optim.AdamW order of operations) and global-norm clipping helpers.
public sealed unsafe partial class CpuBackend
{
    public void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep st)
    {
        var (p32, m32, v32) = (Out(param, true), Out(m, true), Out(v, true));
        AdamWF32(p32, W(grad), m32, v32, st);
        Store(p32, param);
        Store(m32, m);
        Store(v32, v);
    }

    void AdamWF32(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep st)
    {
        using var keep = Hold(param, grad, m, v);
        float* p = F(param), g = F(grad), mp = F(m), vp = F(v);
        double bc1 = 1 - Math.Pow(st.Beta1, st.Step), bc2 = 1 - Math.Pow(st.Beta2, st.Step);
        float stepSize = (float)(st.Lr / bc1), bc2Sqrt = (float)Math.Sqrt(bc2);
        float decay = 1f - st.Lr * st.WeightDecay, b1 = st.Beta1, b2 = st.Beta2, eps = st.Eps;
        Par.For((int)param.Numel, 4096, Threads, (s, e) =>
        {
            for (int i = s; i < e; i++)
            {
                float gi = g[i];
                p[i] *= decay;
                mp[i] += (1f - b1) * (gi - mp[i]);
                vp[i] = b2 * vp[i] + (1f - b2) * gi * gi;
                p[i] -= stepSize * mp[i] / (MathF.Sqrt(vp[i]) / bc2Sqrt + eps);
            }
        });
    }

    public void SumSquares(Tensor x, Tensor acc)
    {
        var acc32 = Out(acc, true);
        SumSquaresF32(W(x), acc32);
        Store(acc32, acc);
    }

    void SumSquaresF32(Tensor x, Tensor acc)
    {
        using var keep = Hold(x, acc);
        float* p = F(x);
        double s = 0;
        for (long i = 0; i < x.Numel; i++) s += (double)p[i] * p[i];
        *F(acc) += (float)s;
    }

    public void ClipScale(Tensor x, Tensor sumSquares, float maxNorm)
    {
        var x32 = Out(x, true);
        ClipScaleF32(x32, W(sumSquares), maxNorm);
        Store(x32, x);
    }

    void ClipScaleF32(Tensor x, Tensor sumSquares, float maxNorm)
    {
        using var keep = Hold(x, sumSquares);
        float coef = maxNorm / (MathF.Sqrt(*F(sumSquares)) + 1e-6f);
        if (coef >= 1f) return;
        System.Numerics.Tensors.TensorPrimitives.Multiply(S(x), coef, S(x));
    }
}
