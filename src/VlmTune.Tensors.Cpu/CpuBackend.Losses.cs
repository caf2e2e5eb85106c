using System.Numerics.Tensors;

namespace VlmTune.Tensors.Cpu;

// Label log-probabilities over rows of logits (N,V): forward caches lse (N); backward assigns
// dlogits = dlogp · (onehot − softmax), zero rows for ignored labels.
public sealed unsafe partial class CpuBackend
{
    public void LabelLogProbs(Tensor logits, Tensor labels, int ignoreIndex, Tensor logp, Tensor lse)
    {
        var (logp32, lse32) = (Out(logp, false), Out(lse, false));
        LabelLogProbsF32(W(logits), labels, ignoreIndex, logp32, lse32);
        Store(logp32, logp);
        Store(lse32, lse);
    }

    void LabelLogProbsF32(Tensor logits, Tensor labels, int ignoreIndex, Tensor logp, Tensor lse)
    {
        using var keep = Hold(logits, labels, logp, lse);
        var (n, v) = logits.Shape.Dims2();
        float* lp = F(logits), op = F(logp), sp = F(lse);
        Par.For(n, 2, Threads, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var row = new ReadOnlySpan<float>(lp + (long)r * v, v);
                float max = TensorPrimitives.Max(row);
                float l = max + MathF.Log(SumExpShifted(row, max));
                sp[r] = l;
                long label = Index(labels, r);
                if (label == ignoreIndex) { op[r] = 0f; continue; }
                if ((ulong)label >= (ulong)v) throw new ShapeException($"label {label} at row {r} is outside the vocabulary of {v}");
                op[r] = row[(int)label] - l;
            }
        });
    }

    static float SumExpShifted(ReadOnlySpan<float> v, float shift)
    {
        Span<float> tmp = stackalloc float[1024];
        double sum = 0;
        for (int i = 0; i < v.Length; i += tmp.Length)
        {
            int len = Math.Min(tmp.Length, v.Length - i);
            TensorPrimitives.Subtract(v.Slice(i, len), shift, tmp[..len]);
            TensorPrimitives.Exp(tmp[..len], tmp[..len]);
            sum += TensorPrimitives.Sum(tmp[..len]);
        }
        return (float)sum;
    }

    public void LabelLogProbsBackward(Tensor logits, Tensor labels, int ignoreIndex, Tensor lse, Tensor dlogp, Tensor dlogits)
    {
        var d32 = Out(dlogits, false);
        LabelLogProbsBackwardF32(W(logits), labels, ignoreIndex, W(lse), W(dlogp), d32);
        Store(d32, dlogits);
    }

    void LabelLogProbsBackwardF32(Tensor logits, Tensor labels, int ignoreIndex, Tensor lse, Tensor dlogp, Tensor dlogits)
    {
        using var keep = Hold(logits, labels, lse, dlogp, dlogits);
        var (n, v) = logits.Shape.Dims2();
        float* lp = F(logits), sp = F(lse), gp = F(dlogp), dp = F(dlogits);
        Par.For(n, 2, Threads, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var dr = new Span<float>(dp + (long)r * v, v);
                long label = Index(labels, r);
                if (label == ignoreIndex) { dr.Clear(); continue; }
                float g = gp[r];
                TensorPrimitives.Subtract(new ReadOnlySpan<float>(lp + (long)r * v, v), sp[r], dr);
                TensorPrimitives.Exp(dr, dr);
                TensorPrimitives.Multiply(dr, -g, dr);
                dr[(int)label] += g;
            }
        });
    }
}
