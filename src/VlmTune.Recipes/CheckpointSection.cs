namespace VlmTune.Recipes;

/// <summary>YAML <c>checkpoint:</c>.</summary>
public sealed record CheckpointSection
{
    /// <summary>Save every N optimiser steps; 0 = only at the end.</summary>
    public int EverySteps { get; init; }
    /// <summary>How many step checkpoints to keep (older ones are deleted; the final adapter is always kept).</summary>
    public int KeepLast { get; init; } = 2;
}
