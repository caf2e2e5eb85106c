namespace VlmTune.Training;

/// <summary>Where a trainer reports (console, log file, metrics JSONL, progress display); every member optional.</summary>
public interface ITrainingObserver
{
    void Info(string message) { }
    void Warn(string message) { }
    void Step(StepReport report) { }
    void Eval(EvalReport report) { }
    void Dpo(int step, Dpo.DpoMetrics metrics) { }
    /// <summary>The run starts at optimiser step <paramref name="step"/> (0 = from scratch): metrics after it are stale.</summary>
    void Resumed(int step) { }
    void DpoEval(Evaluation.DpoEvalReport report) { }
}

/// <summary>The loss became NaN/∞; the run stopped before writing a checkpoint.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
