namespace VlmTune.Tensors.Optim;

/// <summary>
/// AdamW as torch.optim.AdamW: p ← p − lr·wd·p (decoupled), m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
/// p ← p − lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + eps). One fused backend kernel per parameter; state is f32
/// and lives on the parameter's device. Parameters without a gradient are skipped; each parameter keeps its own
/// update count for the bias correction, as torch does.
/// </summary>
public sealed class AdamW
{
    public IReadOnlyList<Tensor> Parameters { get; }
    public float Lr { get; set; }
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }
    /// <summary>Number of optimiser steps taken so far.</summary>
    public int Step { get; private set; }

    readonly Tensor[] _m;
    readonly Tensor[] _v;
    readonly int[] _steps;

    public AdamW(IReadOnlyList<Tensor> parameters, float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0f)
    {
        foreach (var p in parameters)
            if (p.DType != DType.F32 || !p.IsContiguous || !p.RequiresGrad)
                throw new ArgumentException($"AdamW: parameter {p.Name ?? p.ToString()} must be a contiguous f32 leaf that requires grad");
        Parameters = parameters;
        Lr = lr;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        _m = parameters.Select(p => Ops.Zeros(p.Shape, DType.F32, p.Device)).ToArray();
        _v = parameters.Select(p => Ops.Zeros(p.Shape, DType.F32, p.Device)).ToArray();
        _steps = new int[parameters.Count];
    }

    /// <summary>First and second moments of parameter <paramref name="i"/> (for checkpoints).</summary>
    public (Tensor M, Tensor V) State(int i) => (_m[i], _v[i]);

    /// <summary>Updates applied to parameter <paramref name="i"/> (torch's per-parameter state['step']).</summary>
    public int ParameterStep(int i) => _steps[i];

    /// <summary>Restores the step counters (moments are restored by writing into <see cref="State"/>).</summary>
    public void RestoreSteps(int optimizerStep, IReadOnlyList<int> parameterSteps)
    {
        if (parameterSteps.Count != _steps.Length) throw new ArgumentException($"{parameterSteps.Count} step counts for {_steps.Length} parameters");
        Step = optimizerStep;
        for (int i = 0; i < _steps.Length; i++) _steps[i] = parameterSteps[i];
    }

    public void StepOnce()
    {
        Step++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.Grad == null) continue;
            // Bias correction uses this parameter's own update count, as torch does: a parameter that first gets a
            // gradient late is corrected as a first step.
            p.Backend.AdamW(p, p.Grad, _m[i], _v[i], new AdamWStep(Lr, Beta1, Beta2, Eps, WeightDecay, ++_steps[i]));
        }
    }

    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.Grad = null;
    }
}
