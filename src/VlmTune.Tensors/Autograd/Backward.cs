namespace VlmTune.Tensors.Autograd;

/// <summary>
/// Reverse-mode differentiation. <see cref="Run"/> orders the recorded nodes reachable from the root by
/// creation (a valid reverse topological order), applies each op's rule from the one switch in <see cref="Rule"/>,
/// sums gradients that meet, and accumulates (+=) into the <see cref="Tensor.Grad"/> of leaves that require
/// gradients. Rules run with grad mode off (no double backward).
/// Dtypes: the gradient of an activation (a recorded result) has the activation's dtype (f32 or bf16: a bf16
/// forward has a bf16 backward, computed in f32 inside the kernels); a leaf's accumulated <see cref="Tensor.Grad"/>
/// is f32 whatever the leaf's dtype (LoRA weights and their AdamW moments are f32).
/// </summary>
public static class Backward
{
    public static void Run(Tensor root, Tensor? gradOutput = null)
    {
        if (!root.RequiresGrad) throw new InvalidOperationException($"backward: {root} does not require a gradient");
        if (gradOutput == null && root.Numel != 1)
            throw new ShapeException($"backward: an implicit gradient needs a single-element output, got {root.Shape}");
        if (gradOutput != null && gradOutput.Shape != root.Shape)
            throw new ShapeException($"backward: gradient {gradOutput.Shape} does not match output {root.Shape}");

        using var _ = GradMode.NoGrad();
        var seed = gradOutput ?? Ops.Full(root.Shape, 1f, root.Device);
        if (root.Node == null)
        {
            Accumulate(root, seed);
            return;
        }

        var order = TopologicalOrder(root);
        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance) { [root] = seed };
        var owner = new GradientBuffers(seed);
        foreach (var t in order)
        {
            if (!grads.Remove(t, out var g)) continue;
            var node = t.Node!;
            var inputGrads = Rule(node, t, g);
            for (int i = 0; i < node.Inputs.Length; i++)
            {
                var input = node.Inputs[i];
                var gi = inputGrads[i];
                if (gi == null || !input.RequiresGrad) continue;
                if (gi.Shape != input.Shape)
                    throw new InvalidOperationException($"backward rule of {node.Op} gave {gi.Shape} for input {input.Shape}");
                if (input.Node == null)
                {
                    Accumulate(input, gi);                       // copied or added into the leaf's own Grad
                    owner.ReleaseIfUnheld(gi);
                }
                else
                {
                    if (gi.DType != input.DType)
                    {
                        var converted = Ops.ToDType(gi, input.DType);   // a new buffer: the dtypes differ
                        owner.ReleaseIfUnheld(gi);
                        gi = converted;
                    }
                    if (grads.TryGetValue(input, out var prev))
                    {
                        var sum = Ops.Add(prev, gi);
                        grads[input] = sum;
                        owner.Hold(sum);
                        owner.Drop(prev);
                        owner.ReleaseIfUnheld(gi);
                    }
                    else
                    {
                        grads[input] = gi;
                        owner.Hold(gi);
                    }
                }
            }
            owner.Drop(g);                                       // t's gradient is spent unless a view of it lives on
        }
    }

    /// <summary>
    /// Frees gradient buffers of activations as soon as the walk has spent them, so the next layer's gradients reuse
    /// their memory (the CPU backend pools disposed buffers; CUDA returns them to its stream-ordered pool) instead of
    /// leaving gigabytes per step to the garbage collector. Every gradient an activation receives is made by a rule
    /// during this walk and is reachable only from the walk's table: leaves get copies (<see cref="Accumulate"/>), and
    /// rules keep nothing. A buffer is freed when no table entry refers to its storage any more (views of one
    /// gradient, e.g. Narrow's or Reshape's, share a storage and are counted together); the caller's gradOutput is
    /// never freed. A tensor freed too early fails loudly: its storage throws ObjectDisposedException.
    /// </summary>
    sealed class GradientBuffers(Tensor seed)
    {
        readonly Dictionary<Storage, int> _held = new(ReferenceEqualityComparer.Instance) { [seed.Storage] = 1 };
        readonly Storage _seed = seed.Storage;

        public void Hold(Tensor g) => _held[g.Storage] = _held.GetValueOrDefault(g.Storage) + 1;

        public void Drop(Tensor g)
        {
            if (!_held.TryGetValue(g.Storage, out int count)) return;
            if (count > 1) _held[g.Storage] = count - 1;
            else
            {
                _held.Remove(g.Storage);
                Free(g.Storage);
            }
        }

        /// <summary>Frees a gradient that never entered the table (summed into another or copied into a leaf).</summary>
        public void ReleaseIfUnheld(Tensor g)
        {
            if (!_held.ContainsKey(g.Storage)) Free(g.Storage);
        }

        void Free(Storage storage)
        {
            if (!ReferenceEquals(storage, _seed)) storage.Dispose();
        }
    }

    static List<Tensor> TopologicalOrder(Tensor root)
    {
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var result = new List<Tensor>();
        var stack = new Stack<Tensor>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (t.Node == null || !seen.Add(t.Node)) continue;
            result.Add(t);
            foreach (var i in t.Node.Inputs) if (i.Node != null) stack.Push(i);
        }
        result.Sort((a, b) => b.Node!.Sequence.CompareTo(a.Node!.Sequence));
        return result;
    }

    static void Accumulate(Tensor leaf, Tensor g)
    {
        g = Ops.Contiguous(g);
        if (leaf.Grad == null)
        {
            var copy = Ops.Empty(leaf.Shape, DType.F32, leaf.Device);
            leaf.Backend.Copy(g, copy);
            leaf.Grad = copy;
        }
        else
        {
            leaf.Backend.Binary(BinaryOp.Add, leaf.Grad, g, leaf.Grad);
        }
    }

    /// <summary>The dtype a rule computes an input's gradient in: f32 for leaves, the input's own dtype for activations.</summary>
    static DType GradType(Tensor input) => input.Node == null ? DType.F32 : input.DType;

    /// <summary>db (out) = Σ over rows of g (rows, out), in <paramref name="dtype"/>.</summary>
    static Tensor BiasGrad(Tensor g, int rows, int outF, DType dtype)
    {
        var g2 = Ops.Reshape(g, rows, outF);
        var sum = g.DType == dtype ? Ops.SumTo(g2, new Shape(1, outF)) : Ops.SumAxes(g2, [true, false], dtype);
        return Ops.Reshape(sum, outF);
    }

    /// <summary>
    /// Every derivative rule: returns one gradient (or null) per input of <paramref name="n"/>. A rule may return a
    /// gradient in another float dtype than its input's (e.g. f32 from a mixed binary op); <see cref="Run"/> converts.
    /// </summary>
    static Tensor?[] Rule(Node n, Tensor y, Tensor g)
    {
        var x = n.Inputs;
        var s = n.Saved;
        switch (n.Op)
        {
            case Op.Add:
                return [Ops.SumTo(g, x[0].Shape), Ops.SumTo(g, x[1].Shape)];
            case Op.Sub:
                return [Ops.SumTo(g, x[0].Shape), x[1].RequiresGrad ? Ops.SumTo(Ops.Neg(g), x[1].Shape) : null];
            case Op.Mul:
                return [
                    x[0].RequiresGrad ? Ops.SumTo(Ops.Mul(g, s[1]), x[0].Shape) : null,
                    x[1].RequiresGrad ? Ops.SumTo(Ops.Mul(g, s[0]), x[1].Shape) : null];
            case Op.Div:
            {
                var ga = Ops.Div(g, s[1]);
                return [
                    x[0].RequiresGrad ? Ops.SumTo(ga, x[0].Shape) : null,
                    x[1].RequiresGrad ? Ops.SumTo(Ops.Neg(Ops.Div(Ops.Mul(ga, s[0]), s[1])), x[1].Shape) : null];
            }
            case Op.Unary:
            {
                var (kind, scalar) = ((UnaryOp, float))n.Attrs!;
                var dx = Ops.Empty(x[0].Shape, GradType(x[0]), g.Device);
                g.Backend.UnaryBackward(kind, s[0], s[1], Ops.Contiguous(g), dx, scalar);
                return [dx];
            }
            case Op.Reshape:
                return [Ops.Reshape(g, x[0].Shape)];
            case Op.Permute:
            {
                var perm = (int[])n.Attrs!;
                var inv = new int[perm.Length];
                for (int i = 0; i < perm.Length; i++) inv[x[0].Shape.Normalize(perm[i])] = i;
                return [Ops.Permute(g, inv)];
            }
            case Op.Narrow:
            {
                var (axis, start) = ((int, int))n.Attrs!;
                var dx = Ops.Zeros(x[0].Shape, GradType(x[0]), g.Device);
                g.Backend.Copy(g, Ops.Narrow(dx, axis, start, g.Shape[axis]));
                return [dx];
            }
            case Op.Expand:
                return [Ops.SumTo(g, x[0].Shape)];
            case Op.Contiguous:
                return [g];
            case Op.ToDType:
                return [g];   // converted to the input's dtype by Run (f32 for a leaf)
            case Op.Concat:
            {
                int axis = (int)n.Attrs!;
                var result = new Tensor?[x.Length];
                int at = 0;
                for (int i = 0; i < x.Length; i++)
                {
                    int len = x[i].Shape[axis];
                    result[i] = x[i].RequiresGrad ? Ops.Contiguous(Ops.Narrow(g, axis, at, len)) : null;
                    at += len;
                }
                return result;
            }
            case Op.Sum:
                return [Ops.Contiguous(Ops.ExpandView(g, x[0].Shape))];
            case Op.MatMul:
            {
                bool shared = (bool)n.Attrs!;
                var (a3, b3) = (s[0], s[1]);
                var (batch, m, k) = a3.Shape.Dims3();
                int nn = b3.Shape[2];
                var g3 = Ops.As3(Ops.Contiguous(g), batch, m, nn);
                Tensor? da = null, db = null;
                if (x[0].RequiresGrad)
                {
                    da = Ops.Empty(x[0].Shape, GradType(x[0]), g.Device);
                    g.Backend.MatMul(g3, false, b3, true, Ops.As3(da, batch, m, k), 1f, false);
                }
                if (x[1].RequiresGrad)
                {
                    db = Ops.Empty(x[1].Shape, GradType(x[1]), g.Device);
                    if (shared) // Σ_b a[b]ᵀ·g[b] as one product over the stacked rows
                        g.Backend.MatMul(Ops.As3(a3, 1, batch * m, k), true, Ops.As3(g3, 1, batch * m, nn), false, Ops.As3(db, 1, k, nn), 1f, false);
                    else
                        g.Backend.MatMul(a3, true, g3, false, Ops.As3(db, batch, k, nn), 1f, false);
                }
                return [da, db];
            }
            case Op.Linear:
            {
                var (xc, w) = (s[0], s[1]);
                var (outF, inF) = w.Shape.Dims2();
                int rows = (int)(xc.Numel / inF);
                var g2 = Ops.As3(Ops.Contiguous(g), 1, rows, outF);
                Tensor? dx = null, dw = null, db = null;
                if (x[0].RequiresGrad)
                {
                    dx = Ops.Empty(xc.Shape, GradType(x[0]), g.Device);
                    g.Backend.MatMul(g2, false, Ops.As3(w, 1, outF, inF), false, Ops.As3(dx, 1, rows, inF), 1f, false);
                }
                if (x[1].RequiresGrad)
                {
                    dw = Ops.Empty(w.Shape, GradType(x[1]), g.Device);
                    g.Backend.MatMul(g2, true, Ops.As3(xc, 1, rows, inF), false, Ops.As3(dw, 1, outF, inF), 1f, false);
                }
                if (x.Length > 2 && x[2].RequiresGrad)
                    db = BiasGrad(g, rows, outF, GradType(x[2]));
                return x.Length > 2 ? [dx, dw, db] : [dx, dw];
            }
            case Op.Linear4Bit:
            {
                var w = (Quantization.Packed4BitWeight)n.Attrs!;
                int rows = (int)(x[0].Numel / w.InFeatures);
                var gc = Ops.Contiguous(g);
                Tensor? dx = null, db = null;
                if (x[0].RequiresGrad)
                {
                    dx = Ops.Empty(x[0].Shape, GradType(x[0]), g.Device);
                    g.Backend.MatMul4BitInputGrad(Ops.As2(gc, rows, w.OutFeatures), w, Ops.As2(dx, rows, w.InFeatures));
                }
                if (x.Length > 1 && x[1].RequiresGrad)
                    db = BiasGrad(gc, rows, w.OutFeatures, GradType(x[1]));
                return x.Length > 1 ? [dx, db] : [dx];
            }
            case Op.Embedding:
            {
                var dw = Ops.Zeros(x[0].Shape, GradType(x[0]), g.Device);
                g.Backend.EmbeddingBackward(s[0], Ops.Contiguous(g), dw);
                return [dw];
            }
            case Op.Gather:
            {
                var dx = Ops.Zeros(x[0].Shape, GradType(x[0]), g.Device);
                g.Backend.ScatterAdd(Ops.Contiguous(g), (int)n.Attrs!, s[0], dx);
                return [dx];
            }
            case Op.LayerNorm:
            {
                var (xc, w, mean, rstd) = (s[0], s[1], s[2], s[3]);
                int c = xc.Shape[-1], rows = (int)(xc.Numel / c);
                var dx = Ops.Empty(xc.Shape, GradType(x[0]), g.Device);
                var dw = x[1].RequiresGrad ? Ops.Zeros(w.Shape, GradType(x[1]), g.Device) : null;
                var db = x.Length > 2 && x[2].RequiresGrad ? Ops.Zeros(w.Shape, GradType(x[2]), g.Device) : null;
                g.Backend.LayerNormBackward(Ops.As2(xc, rows, c), w, mean, rstd, Ops.As2(Ops.Contiguous(g), rows, c), Ops.As2(dx, rows, c), dw, db);
                return x.Length > 2 ? [dx, dw, db] : [dx, dw];
            }
            case Op.RmsNorm:
            {
                var (xc, w, rstd) = (s[0], s[1], s[2]);
                int c = xc.Shape[-1], rows = (int)(xc.Numel / c);
                var dx = Ops.Empty(xc.Shape, GradType(x[0]), g.Device);
                var dw = x[1].RequiresGrad ? Ops.Zeros(w.Shape, GradType(x[1]), g.Device) : null;
                g.Backend.RmsNormBackward(Ops.As2(xc, rows, c), w, rstd, Ops.As2(Ops.Contiguous(g), rows, c), Ops.As2(dx, rows, c), dw);
                return [dx, dw];
            }
            case Op.Softmax:
            case Op.LogSoftmax:
            {
                var yv = s[0];
                int c = yv.Shape[-1], rows = (int)(yv.Numel / Math.Max(1, c));
                var dx = Ops.Empty(yv.Shape, GradType(x[0]), g.Device);
                g.Backend.SoftmaxBackward(Ops.As2(yv, rows, c), Ops.As2(Ops.Contiguous(g), rows, c), Ops.As2(dx, rows, c), n.Op == Op.LogSoftmax);
                return [dx];
            }
            case Op.Attention:
            {
                var p = (AttentionParams)n.Attrs!;
                var (q, k, v, o, lse) = (s[0], s[1], s[2], s[3], s[4]);
                var lengths = s.Length > 5 ? s[5] : null;
                var dq = Ops.Empty(q.Shape, GradType(x[0]), g.Device);
                var dk = Ops.Empty(k.Shape, GradType(x[1]), g.Device);
                var dv = Ops.Empty(v.Shape, GradType(x[2]), g.Device);
                g.Backend.AttentionBackward(q, k, v, lengths, p, o, lse, Ops.Contiguous(g), dq, dk, dv);
                return [dq, dk, dv];
            }
            case Op.Rope:
            {
                var dx = Ops.Empty(x[0].Shape, GradType(x[0]), g.Device);
                g.Backend.Rope(Ops.Contiguous(g), s[0], (float)n.Attrs!, dx, inverse: true);
                return [dx];
            }
            case Op.LabelLogProbs:
            {
                var (logits, labels, lse) = (s[0], s[1], s[2]);
                int v = logits.Shape[-1], rows = (int)(logits.Numel / v);
                var dl = Ops.Empty(logits.Shape, GradType(x[0]), g.Device);
                g.Backend.LabelLogProbsBackward(Ops.As2(logits, rows, v), labels, (int)n.Attrs!, lse, Ops.Contiguous(g), Ops.As2(dl, rows, v));
                return [dl];
            }
            case Op.Dropout:
            {
                var (p, seed, offset) = ((float, ulong, ulong))n.Attrs!;
                var dx = Ops.Empty(x[0].Shape, GradType(x[0]), g.Device);
                g.Backend.Dropout(Ops.Contiguous(g), p, seed, offset, dx);
                return [dx];
            }
            case Op.Checkpoint:
                return ((CheckpointFunction)n.Attrs!).Recompute(x, g);
            default:
                throw new InvalidOperationException($"no backward rule for {n.Op}");
        }
    }
}
