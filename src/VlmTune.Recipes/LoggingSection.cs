namespace VlmTune.Recipes;

/// <summary>YAML <c>logging:</c>.</summary>
public sealed record LoggingSection
{
    /// <summary>Log metrics every N optimiser steps.</summary>
    public int EverySteps { get; init; } = 1;
    public ProgressMode Progress { get; init; } = ProgressMode.Auto;
    /// <summary>Also write TensorBoard event files in the run directory.</summary>
    public bool Tensorboard { get; init; } = true;
}
