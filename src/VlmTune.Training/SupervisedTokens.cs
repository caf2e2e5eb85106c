using VlmTune.Models.SmolVlm;
using VlmTune.Tensors;

namespace VlmTune.Training;

/// <summary>
/// The positions a causal-LM loss scores in a (B, T) label array, HF's shift: row b·T+i−1 of the flattened hidden
/// states predicts label (b, i) for i ≥ 1 and label ≠ −100. Logits are computed at these rows only
/// (<see cref="SmolVlmModel.LogitsAt"/>); the loss terms are exactly those of full logits with ignored labels, summed in
/// the same row order. Legend: N scored tokens, V vocabulary.
/// </summary>
public sealed class SupervisedTokens
{
    SupervisedTokens(long[] rows, long[] targets, int[] sequence, int batch) =>
        (Rows, Targets, Sequence, Batch) = (rows, targets, sequence, batch);

    /// <summary>Flattened hidden-state row of each scored token, in (b, i) order.</summary>
    public long[] Rows { get; }
    /// <summary>The label each row predicts.</summary>
    public long[] Targets { get; }
    /// <summary>The sequence (b) each row belongs to.</summary>
    public int[] Sequence { get; }
    public int Batch { get; }
    public int Count => Rows.Length;

    public static SupervisedTokens Of(long[] labels, int batch)
    {
        int t = labels.Length / batch;
        var rows = new List<long>();
        var targets = new List<long>();
        var sequence = new List<int>();
        for (int b = 0; b < batch; b++)
            for (int i = 1; i < t; i++)
            {
                long label = labels[b * t + i];
                if (label == -100) continue;
                rows.Add((long)b * t + i - 1);
                targets.Add(label);
                sequence.Add(b);
            }
        return new SupervisedTokens([.. rows], [.. targets], [.. sequence], batch);
    }

    /// <summary>Σ −log p(target) over the scored tokens (a differentiable scalar); 0 (still connected to the graph) when there are none.</summary>
    public Tensor NllSum(SmolVlmModel model, Tensor hidden) =>
        Count == 0 ? Ops.Scale(Ops.Sum(hidden), 0f) : Ops.Neg(Ops.Sum(TokenLogProbs(model, hidden)));

    /// <summary>(N) log p(target) of each scored token, f32, differentiable.</summary>
    public Tensor TokenLogProbs(SmolVlmModel model, Tensor hidden) =>
        Ops.TokenLogProbs(model.LogitsAt(hidden, Rows), Ops.FromArray(Targets, new Shape(Count), model.Device));

    /// <summary>(B) Σ log p(target) of each sequence's scored tokens, differentiable (0 for a sequence with none).</summary>
    public Tensor SequenceLogProbs(SmolVlmModel model, Tensor hidden) =>
        Count == 0 ? Ops.Scale(Ops.Sum(Ops.Sum(hidden, 2), 1), 0f) : SumPerSequence(TokenLogProbs(model, hidden));

    /// <summary>(B) per-sequence sums of per-token values (N) — a 0/1 selector product, so it stays differentiable.</summary>
    Tensor SumPerSequence(Tensor values)
    {
        var selector = new float[Batch * Count];
        for (int j = 0; j < Count; j++) selector[Sequence[j] * Count + j] = 1f;
        var s = Ops.FromArray(selector, new Shape(Batch, Count), values.Device);
        return Ops.Reshape(Ops.MatMul(s, Ops.Reshape(values, Count, 1)), Batch);
    }

    /// <summary>(B) scored-token count of each sequence.</summary>
    public float[] CountPerSequence()
    {
        var counts = new float[Batch];
        foreach (int b in Sequence) counts[b]++;
        return counts;
    }

    /// <summary>(B) how many argmax predictions hit the target, from host logits (N, V).</summary>
    public long[] CorrectPerSequence(float[] logits, int vocab)
    {
        var correct = new long[Batch];
        for (int j = 0; j < Count; j++)
        {
            var row = new ReadOnlySpan<float>(logits, j * vocab, vocab);
            int best = 0;
            for (int k = 1; k < vocab; k++) if (row[k] > row[best]) best = k;
            if (best == Targets[j]) correct[Sequence[j]]++;
        }
        return correct;
    }
}
