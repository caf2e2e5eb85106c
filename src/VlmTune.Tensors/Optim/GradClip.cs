namespace VlmTune.Tensors.Optim;

/// <summary>Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ with eps 1e-6), device-resident.</summary>
public static class GradClip
{
    /// <summary>
    /// Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)) where ‖g‖ is the L2 norm over all of them, and
    /// returns that total norm (before clipping) as a device scalar: reading it is the caller's choice.
    /// </summary>
    public static Tensor ClipByGlobalNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        var grads = parameters.Where(p => p.Grad != null).Select(p => p.Grad!).ToList();
        if (grads.Count == 0) throw new InvalidOperationException("clip: no parameter has a gradient");
        var device = grads[0].Device;
        var sumSquares = Ops.Zeros(Shape.Scalar, DType.F32, device);
        foreach (var g in grads) g.Backend.SumSquares(g, sumSquares);
        if (maxNorm > 0)
            foreach (var g in grads) g.Backend.ClipScale(g, sumSquares, maxNorm);
        using var _ = Autograd.GradMode.NoGrad();
        return Ops.Sqrt(sumSquares);
    }
}
