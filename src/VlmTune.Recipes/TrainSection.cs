namespace VlmTune.Recipes;

/// <summary>YAML <c>train:</c> — optimiser (AdamW), schedule, batching.</summary>
public sealed record TrainSection
{
    public int Epochs { get; init; } = 1;
    /// <summary>When > 0, the run stops after this many optimiser steps and <see cref="Epochs"/> is ignored.</summary>
    public int MaxSteps { get; init; }
    /// <summary>Records per micro-batch.</summary>
    public int BatchSize { get; init; } = 1;
    /// <summary>Micro-batches per optimiser step.</summary>
    public int GradAccum { get; init; } = 4;
    public double Lr { get; init; } = 1e-4;
    public double WeightDecay { get; init; }
    public (double Beta1, double Beta2) Betas { get; init; } = (0.9, 0.999);
    public double Eps { get; init; } = 1e-8;
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Linear;
    public int WarmupSteps { get; init; }
    /// <summary>Warm-up as a share of all steps, in [0, 1); exclusive with <see cref="WarmupSteps"/>.</summary>
    public double WarmupRatio { get; init; }
    /// <summary>Global gradient-norm clip; 0 turns clipping off.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    public bool GradientCheckpointing { get; init; } = true;
    /// <summary>Activation dtype; <see cref="ComputeDType.Auto"/> lets the trainer pick by device (bf16 on CUDA, f32 on the CPU).</summary>
    public ComputeDType ComputeDType { get; init; } = ComputeDType.Auto;

    /// <summary>Records per optimiser step: batch_size x grad_accum (derived, not a key).</summary>
    public int EffectiveBatch => BatchSize * GradAccum;
}
