using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Data.Collation;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Optim;
using VlmTune.Training.Dpo;
using VlmTune.Training.Evaluation;

namespace VlmTune.Training;

/// <summary>
/// Preference optimisation (DPO and its variants) with LoRA / QLoRA. The reference model is the same model with the
/// adapters disabled (no second copy of the weights); with a frozen base its log-probs are computed once per pair in
/// a pre-pass and cached on disk (keyed by the data, the model and the configuration). Each pair's images go through
/// the vision tower once and the features are shared by the chosen and rejected sequences; with the feature cache
/// (frozen towers) the reference pass computes them once for the whole run. Data streams as in SFT (<see cref="DataFeed"/>).
/// Legend: P pairs in a micro-batch, rows 0..P−1 = prompt+chosen, P..2P−1 = prompt+rejected.
/// </summary>
public sealed class DpoTrainer(RunSettings s, Device device, ITrainingObserver? observer = null)
{
    readonly ITrainingObserver _log = observer ?? new Null();

    public AdapterSet? Adapters { get; private set; }
    public SmolVlmModel? Model { get; private set; }

    public IReadOnlyList<(StepReport Step, DpoMetrics Metrics)> Run(CancellationToken cancel = default)
    {
        var (processor, model, adapters, dropout) = RunSetup.Prepare(s, device, _log);
        (Model, Adapters) = (model, adapters);
        using var data = DataFeed.OpenPreference(s, processor, model, adapters, _log);
        var pairs = data.Train;
        _log.Info($"data: {pairs.Count} preference pairs" + (data.Eval.Count > 0 ? $", {data.Eval.Count} held-out pairs" : ""));
        if (pairs.Count == 0) throw new InvalidOperationException($"{s.TrainData}: no usable preference pairs");
        var reference = ReferenceLogps(model, adapters, data);

        int perStep = s.BatchSize * s.GradAccum;
        int total = RunSetup.TotalSteps(s, pairs.Count);
        int warmup = LrSchedule.WarmupSteps(s.WarmupSteps, s.WarmupRatio, total);
        var parameters = adapters.TrainableParameters.Select(p => p.Tensor).ToList();
        var optimizer = new AdamW(parameters, s.Lr, s.Beta1, s.Beta2, s.Eps, s.WeightDecay);
        var order = data.Order();
        _log.Info($"batches: padding {data.PaddingFraction(order) * 100:F1}% of the tokens of an epoch" +
                  (s.GroupByLength ? " (grouped by length)" : "") + $"; {s.Workers} data worker(s), prefetch {s.Prefetch}");
        RunSetup.CheckSchedule(s, warmup, total, _log);
        int start = RunSetup.Resume(s, adapters, optimizer, _log);
        dropout.Step = (long)start * s.GradAccum;      // the dropout stream is a function of (seed, micro-step) too
        using var queue = data.Queue(k => data.TrainLoader.LoadPreference(order.Slice(k * s.BatchSize, s.BatchSize)),
            (long)start * s.GradAccum, (long)total * s.GradAccum);

        var reports = new List<(StepReport, DpoMetrics)>();
        var watch = new OverOptimisationWatch();
        for (int step = start; step < total; step++)
        {
            if (cancel.IsCancellationRequested)
            {
                if (RunSetup.SaveCheckpoint(s, step, total, adapters, optimizer, _log) is { } saved) _log.Info($"interrupted: checkpoint {saved}");
                return reports;
            }
            var sw = Stopwatch.StartNew();
            optimizer.ZeroGrad();
            double loss = 0;
            var metrics = new List<DpoMetrics>();
            long tokens = 0;
            for (int k = 0; k < s.GradAccum; k++)
            {
                var streamed = queue.Take();
                var (idx, batch) = (streamed.Samples, streamed.Text);
                tokens += batch.AttentionMask.Sum();
                dropout.Training = true;
                var (chosen, rejected, chosenTokens, rejectedTokens) = PairLogps.Compute(model, batch, data.Features(model, streamed.Images), streamed.TilesPerSample);
                var refC = Ops.FromArray(idx.Select(i => reference[i].Chosen).ToArray(), new Shape(idx.Length), device);
                var refR = Ops.FromArray(idx.Select(i => reference[i].Rejected).ToArray(), new Shape(idx.Length), device);
                var result = DpoLoss.Compute(chosen, rejected, refC, refR, s.Dpo, chosenTokens, rejectedTokens);
                Ops.Scale(result.Loss, 1f / s.GradAccum).Backward();
                loss += result.Loss.Item() / s.GradAccum;
                metrics.Add(DpoMetrics.From(result, chosen, rejected));
                dropout.Advance();
            }
            if (!double.IsFinite(loss))
                throw new TrainingDivergedException($"step {step + 1}: the DPO loss is {loss}; stopping (the last checkpoint in {s.OutputDir}/checkpoints is intact)");
            var (lr, gradNorm) = RunSetup.Update(s, optimizer, step, warmup, total);
            var m = Average(metrics);
            var (devicePeak, deviceReserved) = StepReport.DeviceMemory(device);
            var report = new StepReport(step + 1, total, loss, lr, gradNorm, tokens / sw.Elapsed.TotalSeconds, 0, StepReport.PeakRssMb(), sw.Elapsed.TotalSeconds,
                devicePeak, deviceReserved);
            reports.Add((report, m));
            _log.Step(report);
            if (step + 1 == total || order.EpochOf((long)(step + 1) * perStep) != order.EpochOf((long)step * perStep))
                data.LogCache($"after epoch {order.EpochOf((long)step * perStep) + 1}");
            _log.Dpo(step + 1, m);
            if (watch.Observe(step + 1, m) is { } warning) _log.Warn(warning);
            if (data.Eval.Count > 0 && (step + 1 == total || (s.EvalEverySteps > 0 && (step + 1) % s.EvalEverySteps == 0)))
                _log.DpoEval(EvaluatePairs(model, adapters, data, step + 1, dropout));
            if (RunSetup.CheckpointDue(s, step + 1, total)) RunSetup.SaveCheckpoint(s, step + 1, total, adapters, optimizer, _log);
        }
        _log.Info($"adapter saved to {RunSetup.SaveFinalAdapter(s, adapters)}");
        return reports;
    }


    /// <summary>Reference log-probs per pair: adapters disabled, no grad; from the cache file when it matches.</summary>
    List<(float Chosen, float Rejected)> ReferenceLogps(SmolVlmModel model, AdapterSet adapters, DataFeed data)
    {
        var pairs = data.Train;
        string key = CacheKey(model.ComputeDType);
        string cache = Path.Combine(s.OutputDir, $"reference-logps-{key[..16]}.safetensors");
        if (s.CacheReference && File.Exists(cache))
        {
            try
            {
                using var f = SafeTensorsFile.Open(cache);
                var values = MemoryMarshal.Cast<byte, float>(f.GetBytes("reference_logps")).ToArray();
                if (values.Length == 2 * pairs.Count && f.Metadata.GetValueOrDefault("key") == key && values.All(float.IsFinite))
                {
                    _log.Info($"reference log-probs: {pairs.Count} pairs from the cache {cache}");
                    return Enumerable.Range(0, pairs.Count).Select(i => (values[2 * i], values[2 * i + 1])).ToList();
                }
                _log.Warn($"{cache}: does not match this run's {pairs.Count} pairs; recomputing the reference log-probs");
            }
            catch (Exception e) when (e is SafeTensorsFormatException or KeyNotFoundException or IOException)
            {
                _log.Warn($"{cache}: damaged ({e.Message.Split('\n')[0]}); recomputing the reference log-probs");
            }
        }
        var result = new List<(float, float)>(pairs.Count);
        adapters.Enabled = false;
        try
        {
            using var _ = GradMode.NoGrad();
            int bs = Math.Max(1, s.EvalBatchSize), n = pairs.Count, batches = (n + bs - 1) / bs;
            using var queue = data.Queue(k => data.TrainLoader.LoadPreference(Enumerable.Range((int)k * bs, Math.Min(bs, n - (int)k * bs)).ToArray()), 0, batches);
            for (int k = 0; k < batches; k++)
            {
                var streamed = queue.Take();
                var (c, r, _, _) = PairLogps.Compute(model, streamed.Text, data.Features(model, streamed.Images), streamed.TilesPerSample);
                var cv = c.ToArray<float>();
                var rv = r.ToArray<float>();
                for (int j = 0; j < cv.Length; j++) result.Add((cv[j], rv[j]));
            }
        }
        finally
        {
            adapters.Enabled = true;
        }
        data.LogCache("in the reference pass");
        if (s.CacheReference)
        {
            Directory.CreateDirectory(s.OutputDir);
            var w = new SafeTensorsWriter { Metadata = new() { ["key"] = key, ["format"] = "vlmtune-reference-logps" } };
            var flat = result.SelectMany(x => new[] { x.Item1, x.Item2 }).ToArray();
            w.Add("reference_logps", DType.F32, [pairs.Count, 2], MemoryMarshal.AsBytes(flat.AsSpan()).ToArray());
            string tmp = cache + $".tmp-{Environment.ProcessId}";
            w.WriteFile(tmp);
            File.Move(tmp, cache, overwrite: true);   // never a half-written cache under the real name
        }
        _log.Info($"reference log-probs: computed for {pairs.Count} pairs (adapters disabled)");
        return result;
    }

    /// <summary>
    /// SHA-256 over the training data bytes, the model's config and weight-file sizes, and the run's configuration
    /// (the compute dtype only when it is not f32, so f32 caches made before the setting existed stay valid).
    /// </summary>
    string CacheKey(DType computeDType)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var f in Data.Datasets.DatasetReader.Files(s.TrainData, Options())) h.AppendData(File.ReadAllBytes(f));
        h.AppendData(File.ReadAllBytes(Path.Combine(s.ModelDir, "config.json")));
        foreach (var f in Directory.GetFiles(s.ModelDir, "*.safetensors").Order())
            h.AppendData(System.Text.Encoding.UTF8.GetBytes($"{Path.GetFileName(f)}:{new FileInfo(f).Length};"));
        h.AppendData(System.Text.Encoding.UTF8.GetBytes($"{s.Quantization};{s.MaxLength};{s.Dpo.LossType};{s.AssistantOnly}"));
        if (computeDType != DType.F32) h.AppendData(System.Text.Encoding.UTF8.GetBytes($";compute {computeDType.Name()}"));
        if (s.Dpo.LossType == DpoLossType.Ipo) h.AppendData("; ipo sums"u8); // IPO caches used to hold per-token values
        if (s.EvalData == null && (s.EvalCount > 0 || s.EvalFraction > 0)) // the held-out split decides which pairs are cached
            h.AppendData(System.Text.Encoding.UTF8.GetBytes($";eval split {s.EvalCount} {s.EvalFraction} {s.Seed}"));
        return Convert.ToHexString(h.GetHashAndReset()).ToLowerInvariant();
    }

    Data.Datasets.DatasetOptions Options() => new()
    {
        OnBadRecord = s.OnBadRecord, AllowOutsideRoot = s.AllowOutsideRoot, Split = s.DataSplit, Config = s.DataConfig,
    };

    /// <summary>Held-out reward metrics (adapters on vs off, no dropout, no grad), as the SFT trainer evaluates.</summary>
    DpoEvalReport EvaluatePairs(SmolVlmModel model, AdapterSet adapters, DataFeed data, int step, DropoutContext dropout)
    {
        bool was = dropout.Training;
        dropout.Training = false;
        try
        {
            int bs = Math.Max(1, s.EvalBatchSize), n = data.Eval.Count;
            var batches = Enumerable.Range(0, (n + bs - 1) / bs).Select(k =>
            {
                var streamed = data.EvalLoader.LoadPreference(Enumerable.Range(k * bs, Math.Min(bs, n - k * bs)).ToArray());
                // Features are taken inside: with adapters on the vision tower they differ between policy and reference.
                return (Func<(Tensor, Tensor, Tensor, Tensor)>)(() =>
                    PairLogps.Compute(model, streamed.Text, data.Features(model, streamed.Images), streamed.TilesPerSample));
            });
            var report = DpoEvaluation.Evaluate(model, adapters, batches, n, s.Dpo, step);
            data.LogCache($"during eval at step {step}");
            return report;
        }
        finally { dropout.Training = was; }
    }

    static DpoMetrics Average(List<DpoMetrics> m) => new(
        m.Average(x => x.RewardsChosen), m.Average(x => x.RewardsRejected), m.Average(x => x.RewardsAccuracies),
        m.Average(x => x.RewardsMargins), m.Average(x => x.LogpsChosen), m.Average(x => x.LogpsRejected),
        m[0].NllLoss == null ? null : m.Average(x => x.NllLoss!.Value));

    sealed class Null : ITrainingObserver;
}
