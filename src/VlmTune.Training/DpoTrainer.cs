using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Data.Collation;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Optim;
using VlmTune.Training.Dpo;

namespace VlmTune.Training;

/// <summary>
/// Preference optimisation (DPO and its variants) with LoRA / QLoRA. The reference model is the same model with the
/// adapters disabled (no second copy of the weights); with a frozen base its log-probs are computed once per pair in
/// a pre-pass and cached on disk (keyed by the data, the model and the configuration). Each pair's images go through
/// the vision tower once and the features are shared by the chosen and rejected sequences.
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
        var pairs = LoadPairs(processor);
        if (pairs.Count == 0) throw new InvalidOperationException($"{s.TrainData}: no usable preference pairs");
        var collator = new DpoCollator(processor);
        var reference = ReferenceLogps(model, adapters, collator, pairs);

        int perStep = s.BatchSize * s.GradAccum;
        int total = RunSetup.TotalSteps(s, pairs.Count);
        int warmup = LrSchedule.WarmupSteps(s.WarmupSteps, s.WarmupRatio, total);
        var parameters = adapters.TrainableParameters.Select(p => p.Tensor).ToList();
        var optimizer = new AdamW(parameters, s.Lr, s.Beta1, s.Beta2, s.Eps, s.WeightDecay);
        var order = new EpochOrder(pairs.Count, s.Seed, s.Shuffle);
        int start = RunSetup.Resume(s, adapters, optimizer, _log);

        var reports = new List<(StepReport, DpoMetrics)>();
        for (int step = start; step < total; step++)
        {
            if (cancel.IsCancellationRequested)
            {
                _log.Info($"interrupted: checkpoint {RunSetup.SaveCheckpoint(s, step, adapters, optimizer)}");
                return reports;
            }
            var sw = Stopwatch.StartNew();
            optimizer.ZeroGrad();
            double loss = 0;
            var metrics = new List<DpoMetrics>();
            long tokens = 0;
            for (int k = 0; k < s.GradAccum; k++)
            {
                var idx = order.Slice((long)step * perStep + k * s.BatchSize, s.BatchSize);
                var batch = collator.Collate(idx.Select(i => pairs[i]).ToList());
                tokens += batch.AttentionMask.Sum();
                dropout.Training = true;
                var (chosen, rejected) = PolicyLogps(model, batch);
                var refC = Ops.FromArray(idx.Select(i => reference[i].Chosen).ToArray(), new Shape(idx.Length), device);
                var refR = Ops.FromArray(idx.Select(i => reference[i].Rejected).ToArray(), new Shape(idx.Length), device);
                var result = DpoLoss.Compute(chosen, rejected, refC, refR, s.Dpo);
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
            var report = new StepReport(step + 1, total, loss, lr, gradNorm, tokens / sw.Elapsed.TotalSeconds, 0, Environment.WorkingSet / 1e6, sw.Elapsed.TotalSeconds,
                devicePeak, deviceReserved);
            reports.Add((report, m));
            _log.Step(report);
            _log.Dpo(step + 1, m);
            if (RunSetup.CheckpointDue(s, step + 1, total)) RunSetup.SaveCheckpoint(s, step + 1, adapters, optimizer);
        }
        _log.Info($"adapter saved to {RunSetup.SaveFinalAdapter(s, adapters)}");
        return reports;
    }

    /// <summary>Summed completion log-probs (P) of the chosen and rejected rows; image features computed once per pair.</summary>
    (Tensor Chosen, Tensor Rejected) PolicyLogps(SmolVlmModel model, DpoBatch b)
    {
        int p = b.PairCount, t = b.SequenceLength;
        var pairInputs = new SmolVlmInputs
        {
            InputIds = b.InputIds[..(p * t)], Batch = p, PixelValues = b.MaxTiles > 0 ? b.PixelValues : null,
            TilesPerSample = b.MaxTiles, TileSize = b.TileSize,
        };
        var features = model.ImageFeatures(pairInputs, out var perPair);
        var rows = new SmolVlmInputs { InputIds = b.InputIds, Batch = 2 * p, AttentionMask = b.AttentionMask };
        var shared = features == null ? null : Ops.Concat([features, features], 0);
        var embeds = model.Embed(rows, shared, [.. perPair, .. perPair]);
        var logits = model.Decode(embeds, 2 * p, b.AttentionMask, null, lastPositionOnly: false);   // (2P, T, V)
        var labels = Ops.FromArray(b.Labels, new Shape(2 * p, t), device);
        var logp = Ops.TokenLogProbs(Ops.Narrow(logits, 1, 0, t - 1), Ops.Contiguous(Ops.Narrow(labels, 1, 1, t - 1)));
        var sums = Ops.Sum(logp, 1);                                                                  // (2P)
        if (s.Dpo.LossType == DpoLossType.Ipo)
            sums = DpoLoss.LengthNormalise(sums, CompletionCounts(b));
        return (Ops.Narrow(sums, 0, 0, p), Ops.Narrow(sums, 0, p, p));
    }

    static int[] CompletionCounts(DpoBatch b)
    {
        int rows = 2 * b.PairCount, t = b.SequenceLength;
        var counts = new int[rows];
        for (int r = 0; r < rows; r++)
            for (int i = 1; i < t; i++)
                if (b.Labels[r * t + i] != -100) counts[r]++;
        return counts;
    }

    /// <summary>Reference log-probs per pair: adapters disabled, no grad; from the cache file when it matches.</summary>
    List<(float Chosen, float Rejected)> ReferenceLogps(SmolVlmModel model, AdapterSet adapters, DpoCollator collator, List<EncodedPair> pairs)
    {
        string key = CacheKey(model.ComputeDType);
        string cache = Path.Combine(s.OutputDir, $"reference-logps-{key[..16]}.safetensors");
        if (s.CacheReference && File.Exists(cache))
        {
            using var f = SafeTensorsFile.Open(cache);
            var values = MemoryMarshal.Cast<byte, float>(f.GetBytes("reference_logps")).ToArray();
            if (values.Length == 2 * pairs.Count && f.Metadata.GetValueOrDefault("key") == key)
            {
                _log.Info($"reference log-probs: {pairs.Count} pairs from the cache {cache}");
                return Enumerable.Range(0, pairs.Count).Select(i => (values[2 * i], values[2 * i + 1])).ToList();
            }
        }
        var result = new List<(float, float)>(pairs.Count);
        adapters.Enabled = false;
        try
        {
            using var _ = GradMode.NoGrad();
            for (int i = 0; i < pairs.Count; i += Math.Max(1, s.EvalBatchSize))
            {
                var batch = collator.Collate(pairs.Skip(i).Take(Math.Max(1, s.EvalBatchSize)).ToList());
                var (c, r) = PolicyLogps(model, batch);
                var cv = c.ToArray<float>();
                var rv = r.ToArray<float>();
                for (int j = 0; j < cv.Length; j++) result.Add((cv[j], rv[j]));
            }
        }
        finally
        {
            adapters.Enabled = true;
        }
        if (s.CacheReference)
        {
            Directory.CreateDirectory(s.OutputDir);
            var w = new SafeTensorsWriter { Metadata = new() { ["key"] = key, ["format"] = "vlmtune-reference-logps" } };
            var flat = result.SelectMany(x => new[] { x.Item1, x.Item2 }).ToArray();
            w.Add("reference_logps", DType.F32, [pairs.Count, 2], MemoryMarshal.AsBytes(flat.AsSpan()).ToArray());
            w.WriteFile(cache);
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
        foreach (var f in DatasetReader.Files(s.TrainData, Options())) h.AppendData(File.ReadAllBytes(f));
        h.AppendData(File.ReadAllBytes(Path.Combine(s.ModelDir, "config.json")));
        foreach (var f in Directory.GetFiles(s.ModelDir, "*.safetensors").Order())
            h.AppendData(System.Text.Encoding.UTF8.GetBytes($"{Path.GetFileName(f)}:{new FileInfo(f).Length};"));
        h.AppendData(System.Text.Encoding.UTF8.GetBytes($"{s.Quantization};{s.MaxLength};{s.Dpo.LossType};{s.AssistantOnly}"));
        if (computeDType != DType.F32) h.AppendData(System.Text.Encoding.UTF8.GetBytes($";compute {computeDType.Name()}"));
        return Convert.ToHexString(h.GetHashAndReset()).ToLowerInvariant();
    }

    List<EncodedPair> LoadPairs(Data.SmolVlmProcessor processor)
    {
        if (!DatasetReader.Exists(s.TrainData)) throw new FileNotFoundException($"{s.TrainData}: data file not found");
        var log = new BadRecordLog(s.OnBadRecord);
        var encoder = new PreferenceEncoder(processor, new EncodingOptions { AssistantOnly = s.AssistantOnly, Overflow = s.Overflow });
        using var ds = DatasetReader.OpenPreference(s.TrainData, Options());
        var list = new List<EncodedPair>();
        foreach (var ex in ds.Examples(log))
            if (encoder.Encode(ex) is { } e) list.Add(e);
        if (log.SkippedCount > 0) _log.Warn(log.Summary());
        _log.Info($"data: {list.Count} preference pairs");
        return list;
    }

    DatasetOptions Options() => new()
    {
        OnBadRecord = s.OnBadRecord, AllowOutsideRoot = s.AllowOutsideRoot, Split = s.DataSplit, Config = s.DataConfig, Log = _log.Info,
    };

    static DpoMetrics Average(List<DpoMetrics> m) => new(
        m.Average(x => x.RewardsChosen), m.Average(x => x.RewardsRejected), m.Average(x => x.RewardsAccuracies),
        m.Average(x => x.RewardsMargins), m.Average(x => x.LogpsChosen), m.Average(x => x.LogpsRejected));

    sealed class Null : ITrainingObserver;
}
