namespace VlmTune.Tensors.Autograd;

/// <summary>
/// Gradient checkpointing: run a block without recording its activations, and recompute it during the
/// backward pass. Trades one extra forward of the block for its activation memory. The block must be
/// deterministic given its inputs (dropout takes explicit seeds, so it is). The buffers the block allocates are
/// freed as soon as they are spent (<see cref="BlockAllocations"/>): after the no-grad run all but the output, after
/// the recompute's backward all of them.
/// </summary>
public static class Checkpoint
{
    public static Tensor Run(Func<Tensor[], Tensor> block, params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return block(inputs);
        Tensor y;
        bool trainable;
        var allocations = BlockAllocations.Begin();
        try
        {
            using (GradMode.NoGrad())
            using (var probe = GradMode.TrackTrainableInputs())
            {
                y = block(inputs);
                trainable = probe.SawTrainable;
            }
        }
        finally
        {
            allocations.Dispose();
        }
        allocations.FreeAllBut(y);                       // the block's intermediates are spent; its output is kept
        // The block's parameters are captured leaves, not inputs, so whether the output needs a gradient is learnt
        // from the no-grad run itself: if no op in it read a tensor that requires a gradient (no trainable input, no
        // trainable parameter — a frozen vision tower under text-only LoRA), the output is a plain tensor and the block
        // is never recomputed nor run backward. Otherwise it is marked so the recompute can reach those parameters.
        if (!trainable) return y;
        var output = y.Detach();
        output.SetProduced(new Node(Op.Checkpoint, inputs, [], new CheckpointFunction(block)));
        return output;
    }
}

/// <summary>The recompute step of one checkpointed block.</summary>
public sealed class CheckpointFunction(Func<Tensor[], Tensor> block)
{
    internal Tensor?[] Recompute(Tensor[] inputs, Tensor gradOutput)
    {
        var leaves = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            leaves[i] = inputs[i].Detach();
            if (inputs[i].RequiresGrad) leaves[i].RequireGrad();
        }
        Tensor y;
        var allocations = BlockAllocations.Begin();
        try
        {
            using (GradMode.Enable()) y = block(leaves);
        }
        finally
        {
            allocations.Dispose();
        }
        if (y.RequiresGrad) Backward.Run(y, gradOutput);
        var grads = new Tensor?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) grads[i] = inputs[i].RequiresGrad ? leaves[i].Grad : null;
        allocations.FreeAllBut(null);                    // the recomputed activations are spent (the grads are copies)
        return grads;
    }
}
