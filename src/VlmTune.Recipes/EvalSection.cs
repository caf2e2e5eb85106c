namespace VlmTune.Recipes;

/// <summary>YAML <c>eval:</c>.</summary>
public sealed record EvalSection
{
    /// <summary>Evaluate every N optimiser steps; 0 = only at the end.</summary>
    public int EverySteps { get; init; }
    public int BatchSize { get; init; } = 1;
}
