namespace VlmTune.Training;

/// <summary>One optimiser step's numbers (also one line of metrics.jsonl).</summary>
public sealed record StepReport(int Step, int TotalSteps, double Loss, double Lr, double GradNorm, double TokensPerSecond,
    long SupervisedTokens, double PeakMemoryMb, double Seconds);

/// <summary>An evaluation pass: mean token loss and next-token accuracy on supervised positions.</summary>
public sealed record EvalReport(int Step, double Loss, double TokenAccuracy, long Tokens);
