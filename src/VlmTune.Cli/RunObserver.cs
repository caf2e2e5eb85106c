using System.Text.Json;
using Serilog;
using VlmTune.Training;

namespace VlmTune.Cli;

/// <summary>
/// Training output: Serilog to the console and to {run}/train.log, one JSON line per step/eval in {run}/metrics.jsonl,
/// and a compact progress line (step/total, ETA, loss, tokens/s) every `every` steps.
/// </summary>
public sealed class RunObserver : ITrainingObserver, IDisposable
{
    readonly Serilog.Core.Logger _log;
    readonly StreamWriter _metrics;
    readonly int _every;
    readonly DateTime _started = DateTime.UtcNow;

    public RunObserver(string runDir, int every)
    {
        Directory.CreateDirectory(runDir);
        _every = Math.Max(1, every);
        _log = new LoggerConfiguration()
            .WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss} {Message:lj}{NewLine}")
            .WriteTo.File(Path.Combine(runDir, "train.log"), outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} [{Level:u3}] {Message:lj}{NewLine}")
            .CreateLogger();
        _metrics = new StreamWriter(Path.Combine(runDir, "metrics.jsonl"), append: true) { AutoFlush = true };
    }

    public void Info(string message) => _log.Information("{Message:l}", message);
    public void Warn(string message) => _log.Warning("warning: {Message:l}", message);

    public void Step(StepReport r)
    {
        Line(("step", r.Step), ("loss", Math.Round(r.Loss, 6)), ("lr", r.Lr), ("grad_norm", Math.Round(r.GradNorm, 6)),
            ("tokens_per_s", Math.Round(r.TokensPerSecond, 1)), ("supervised_tokens", r.SupervisedTokens), ("peak_memory_mb", Math.Round(r.PeakMemoryMb, 1)));
        if (r.Step % _every != 0 && r.Step != r.TotalSteps) return;
        double elapsed = (DateTime.UtcNow - _started).TotalSeconds;
        double eta = elapsed / r.Step * (r.TotalSteps - r.Step);
        _log.Information("step {Step}/{Total}  loss {Loss:F4}  lr {Lr:G3}  grad {Grad:F3}  {Tps:F0} tok/s  eta {Eta:F0}s",
            r.Step, r.TotalSteps, r.Loss, r.Lr, r.GradNorm, r.TokensPerSecond, eta);
    }

    public void Eval(EvalReport r)
    {
        Line(("step", r.Step), ("eval_loss", Math.Round(r.Loss, 6)), ("eval_token_accuracy", Math.Round(r.TokenAccuracy, 6)), ("eval_tokens", r.Tokens));
        _log.Information("eval @ step {Step}: loss {Loss:F4}, token accuracy {Acc:P1} over {N} tokens", r.Step, r.Loss, r.TokenAccuracy, r.Tokens);
    }

    /// <summary>One metrics.jsonl line (numbers only; written with Utf8JsonWriter, trimming-safe).</summary>
    void Line(params (string Key, double Value)[] fields)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var (k, v) in fields) w.WriteNumber(k, v);
            w.WriteEndObject();
        }
        _metrics.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _log.Dispose();
    }
}
