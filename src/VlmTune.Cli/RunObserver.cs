using System.Text.Json;
using Serilog;
using VlmTune.Cli.TensorBoard;
using VlmTune.Training;

namespace VlmTune.Cli;

/// <summary>
/// Training output: Serilog to the console and to {run}/train.log, one JSON line per step/eval in {run}/metrics.jsonl,
/// a TensorBoard event file next to it (the same scalars; <c>tensorboard --logdir runs/</c>), and a compact progress
/// line (step/total, ETA, loss, tokens/s) every `every` steps.
/// </summary>
public sealed class RunObserver : ITrainingObserver, IDisposable
{
    readonly Serilog.Core.Logger _log;
    StreamWriter _metrics;
    readonly TfEventWriter? _events;
    readonly int _every;
    readonly DateTime _started = DateTime.UtcNow;
    readonly string _runDir;
    readonly List<(double, double)> _loss = [], _evalLoss = [], _chosen = [], _rejected = [];

    /// <summary>Called on every step (the live progress display hooks in here).</summary>
    public Action<StepReport>? OnStep { get; set; }

    /// <param name="console">Also log to the console (off while a live progress display owns the terminal).</param>
    /// <param name="tensorboard">Also write events.out.tfevents.* in the run directory.</param>
    public RunObserver(string runDir, int every, bool console = true, bool tensorboard = true)
    {
        Directory.CreateDirectory(runDir);
        _runDir = runDir;
        _every = Math.Max(1, every);
        var config = new LoggerConfiguration();
        if (console) config = config.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss} {Message:lj}{NewLine}");
        _log = config
            .WriteTo.File(Path.Combine(runDir, "train.log"), outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} [{Level:u3}] {Message:lj}{NewLine}")
            .CreateLogger();
        _metrics = new StreamWriter(Path.Combine(runDir, "metrics.jsonl"), append: true) { AutoFlush = true };
        if (tensorboard) _events = new TfEventWriter(runDir);
    }

    public void Info(string message) => _log.Information("{Message:l}", message);
    public void Warn(string message) => _log.Warning("warning: {Message:l}", message);

    public void Step(StepReport r)
    {
        _loss.Add((r.Step, r.Loss));
        OnStep?.Invoke(r);
        var fields = new List<(string, double)>
        {
            ("step", r.Step), ("loss", Math.Round(r.Loss, 6)), ("lr", r.Lr), ("grad_norm", Math.Round(r.GradNorm, 6)),
            ("tokens_per_s", Math.Round(r.TokensPerSecond, 1)), ("supervised_tokens", r.SupervisedTokens), ("peak_memory_mb", Math.Round(r.PeakMemoryMb, 1)),
            ("step_s", Math.Round(r.Seconds, 4)),
        };
        if (r.DevicePeakMb is { } peak) fields.Add(("device_peak_mb", Math.Round(peak, 1)));
        if (r.DeviceReservedMb is { } reserved) fields.Add(("device_reserved_mb", Math.Round(reserved, 1)));
        Line([.. fields]);
        _events?.Scalars(r.Step, ("train/loss", r.Loss), ("train/learning_rate", r.Lr), ("train/grad_norm", r.GradNorm),
            ("train/tokens_per_s", r.TokensPerSecond), ("train/supervised_tokens", r.SupervisedTokens));
        if (r.Step % _every != 0 && r.Step != r.TotalSteps) return;
        double elapsed = (DateTime.UtcNow - _started).TotalSeconds;
        double eta = elapsed / r.Step * (r.TotalSteps - r.Step);
        _log.Information("step {Step}/{Total}  loss {Loss:F4}  lr {Lr:G3}  grad {Grad:F3}  {Tps:F0} tok/s  eta {Eta:F0}s",
            r.Step, r.TotalSteps, r.Loss, r.Lr, r.GradNorm, r.TokensPerSecond, eta);
    }

    public void Dpo(int step, Training.Dpo.DpoMetrics m)
    {
        var named = m.Named();
        Line([("step", step), .. named.Select(kv => (kv.Key, (double)kv.Value))]);
        _events?.Scalars(step, [.. named.Select(kv => ("train/" + kv.Key, (double)kv.Value))]);
        _chosen.Add((step, m.RewardsChosen));
        _rejected.Add((step, m.RewardsRejected));
        if (step % _every == 0)
            _log.Information("  rewards/chosen {C:F4}  rewards/rejected {R:F4}  rewards/accuracies {A:F3}  rewards/margins {M:F4}  logps/chosen {LC:F3}  logps/rejected {LR:F3}",
                m.RewardsChosen, m.RewardsRejected, m.RewardsAccuracies, m.RewardsMargins, m.LogpsChosen, m.LogpsRejected);
    }

    /// <summary>
    /// A run (re)starting at <paramref name="step"/>: metrics.jsonl keeps only the lines of steps up to it, so a step is
    /// never listed twice after a restart, and the curves continue from the kept values.
    /// </summary>
    public void Resumed(int step)
    {
        string path = Path.Combine(_runDir, "metrics.jsonl");
        _metrics.Dispose();
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
        var kept = new List<string>();
        foreach (var line in lines)
        {
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException) { continue; }   // a line cut short by a kill
            using (doc)
            {
                var o = doc.RootElement;
                if (!o.TryGetProperty("step", out var st) || st.GetDouble() > step) continue;
                kept.Add(line);
                double x = st.GetDouble();
                if (o.TryGetProperty("loss", out var l)) _loss.Add((x, l.GetDouble()));
                if (o.TryGetProperty("eval_loss", out var e)) _evalLoss.Add((x, e.GetDouble()));
                if (o.TryGetProperty("rewards/chosen", out var c)) _chosen.Add((x, c.GetDouble()));
                if (o.TryGetProperty("rewards/rejected", out var r)) _rejected.Add((x, r.GetDouble()));
            }
        }
        if (kept.Count != lines.Count)
        {
            string tmp = path + $".tmp-{Environment.ProcessId}";
            File.WriteAllLines(tmp, kept);
            File.Move(tmp, path, overwrite: true);
            if (step == 0) Warn($"metrics.jsonl started afresh: the {lines.Count} lines of the earlier attempt are dropped");
            else Info($"metrics.jsonl: {lines.Count - kept.Count} lines after step {step} dropped (those steps run again)");
        }
        _metrics = new StreamWriter(path, append: true) { AutoFlush = true };
    }

    public void Eval(EvalReport r)
    {
        _evalLoss.Add((r.Step, r.Loss));
        _events?.Scalars(r.Step, ("eval/loss", r.Loss), ("eval/token_accuracy", r.TokenAccuracy));
        Line(("step", r.Step), ("eval_loss", Math.Round(r.Loss, 6)), ("eval_token_accuracy", Math.Round(r.TokenAccuracy, 6)), ("eval_tokens", r.Tokens));
        _log.Information("eval @ step {Step}: loss {Loss:F4}, token accuracy {Acc:P1} over {N} tokens", r.Step, r.Loss, r.TokenAccuracy, r.Tokens);
    }

    public void DpoEval(Training.Evaluation.DpoEvalReport r)
    {
        var m = r.Metrics;
        Line(("step", r.Step), ("eval_loss", Math.Round(r.Loss, 6)), ("eval_rewards/chosen", m.RewardsChosen), ("eval_rewards/rejected", m.RewardsRejected),
            ("eval_rewards/accuracies", m.RewardsAccuracies), ("eval_rewards/margins", m.RewardsMargins), ("eval_logps/chosen", m.LogpsChosen),
            ("eval_logps/rejected", m.LogpsRejected), ("eval_pairs", r.Pairs));
        _evalLoss.Add((r.Step, r.Loss));
        _log.Information("eval @ step {Step}: loss {Loss:F4}, rewards/accuracies {A:P1}, rewards/margins {M:F4} over {N} pairs",
            r.Step, r.Loss, m.RewardsAccuracies, m.RewardsMargins, r.Pairs);
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

    /// <summary>loss.png (training loss blue, eval loss red) and, for DPO, rewards.png (chosen green, rejected red), with legends.</summary>
    void SaveCurves()
    {
        try
        {
            if (_loss.Count > 1)
            {
                CurvePlot.Save(Path.Combine(_runDir, "loss.png"),
                    [new("training loss", _loss, (31, 119, 180)), new("eval loss", _evalLoss, (214, 39, 40))],
                    "loss", "optimiser step", "loss (mean per supervised token)");
                _log.Information("loss curve: {Path} (training loss {A:F4} → {B:F4})", Path.Combine(_runDir, "loss.png"), _loss[0].Item2, _loss[^1].Item2);
            }
            if (_chosen.Count > 1)
                CurvePlot.Save(Path.Combine(_runDir, "rewards.png"),
                    [new("rewards/chosen", _chosen, (44, 160, 44)), new("rewards/rejected", _rejected, (214, 39, 40))],
                    "DPO implicit rewards", "optimiser step", "reward (beta * log-ratio)");
        }
        catch (IOException e)
        {
            _log.Warning("could not write the curves: {Message}", e.Message);
        }
    }

    public void Dispose()
    {
        SaveCurves();
        _metrics.Dispose();
        _events?.Dispose();
        _log.Dispose();
    }
}
