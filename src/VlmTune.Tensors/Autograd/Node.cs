namespace VlmTune.Tensors.Autograd;

/// <summary>
/// The record an op leaves on its output when grad mode is on and an input requires a gradient:
/// the inputs, what the backward needs (<see cref="Saved"/>), and op attributes.
/// </summary>
public sealed class Node
{
    public Op Op { get; }
    public Tensor[] Inputs { get; }
    public Tensor[] Saved { get; }
    public object? Attrs { get; }
    /// <summary>Creation order; the backward pass runs nodes in decreasing order (a valid reverse topological order).</summary>
    public long Sequence { get; }

    static long _counter;

    public Node(Op op, Tensor[] inputs, Tensor[] saved, object? attrs)
    {
        Op = op;
        Inputs = inputs;
        Saved = saved;
        Attrs = attrs;
        Sequence = Interlocked.Increment(ref _counter);
    }

    public override string ToString() => $"{Op}#{Sequence}";
}
