namespace VlmTune.Training;

public enum ScheduleKind { Constant, Linear, Cosine }

/// <summary>
/// Learning rate at an optimiser step, as transformers' schedulers compute it: linear warmup from 0 over
/// <c>warmup</c> steps, then constant, linear decay to 0, or half-cosine decay to 0 at <c>total</c> steps.
/// <paramref name="step"/> is the number of optimiser steps already taken (the rate for the next update).
/// </summary>
public static class LrSchedule
{
    public static float At(ScheduleKind kind, float peak, int step, int warmup, int total)
    {
        if (warmup > 0 && step < warmup) return peak * step / warmup;
        if (kind == ScheduleKind.Constant) return peak;
        double progress = total <= warmup ? 1.0 : (double)(step - warmup) / (total - warmup);
        progress = Math.Clamp(progress, 0.0, 1.0);
        return kind switch
        {
            ScheduleKind.Linear => (float)(peak * (1.0 - progress)),
            _ => (float)(peak * 0.5 * (1.0 + Math.Cos(Math.PI * progress))),
        };
    }

    /// <summary>Warmup steps from a ratio of the total (rounded up, as transformers' get_warmup_steps).</summary>
    public static int WarmupSteps(int warmupSteps, double warmupRatio, int total) =>
        warmupSteps > 0 ? warmupSteps : (int)Math.Ceiling(warmupRatio * total);
}
