using System.Diagnostics;
using VlmTune.Data;
using VlmTune.Data.Collation;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Optim;

namespace VlmTune.Training;

/// <summary>
/// Supervised fine-tuning with LoRA / QLoRA, top to bottom: setup (processor, model, 4-bit base, adapters, data,
/// optimiser, resume), the loop (micro-batches → token-normalised loss → backward → clip → AdamW → schedule), and
/// saving (periodic checkpoints, final adapter). Reproducible from the seed: data order = seeded permutation per epoch,
/// dropout masks = (seed, module, micro-step); a resumed run continues bit-identically.
/// </summary>
public sealed class SftTrainer(RunSettings s, Device device, ITrainingObserver? observer = null)
{
    readonly ITrainingObserver _log = observer ?? new NullObserver();

    public SmolVlmModel? Model { get; private set; }
    public AdapterSet? Adapters { get; private set; }

    public IReadOnlyList<StepReport> Run(CancellationToken cancel = default)
    {
        // ---- setup ----
        var (processor, model, adapters, dropout) = RunSetup.Prepare(s, device, _log);
        (Model, Adapters) = (model, adapters);

        var (train, eval) = LoadData(processor);
        _log.Info($"data: {train.Count} training samples, {eval.Count} eval samples");
        if (train.Count == 0) throw new InvalidOperationException($"{s.TrainData}: no usable training samples");
        int perStep = s.BatchSize * s.GradAccum;
        int total = RunSetup.TotalSteps(s, train.Count);
        int warmup = LrSchedule.WarmupSteps(s.WarmupSteps, s.WarmupRatio, total);
        var parameters = adapters.TrainableParameters.Select(p => p.Tensor).ToList();
        var optimizer = new AdamW(parameters, s.Lr, s.Beta1, s.Beta2, s.Eps, s.WeightDecay);
        var collator = new SftCollator(processor);

        var order = new EpochOrder(train.Count, s.Seed, s.Shuffle);
        int start = RunSetup.Resume(s, adapters, optimizer, _log);

        // ---- loop ----
        var reports = new List<StepReport>();
        for (int step = start; step < total; step++)
        {
            if (cancel.IsCancellationRequested)
            {
                _log.Info($"interrupted: checkpoint {RunSetup.SaveCheckpoint(s, step, adapters, optimizer)}");
                return reports;
            }
            var sw = Stopwatch.StartNew();
            var micro = Enumerable.Range(0, s.GradAccum)
                .Select(k => collator.Collate(order.Slice((long)step * perStep + k * s.BatchSize, s.BatchSize).Select(i => train[i]).ToList())).ToList();
            long supervised = micro.Sum(b => TokenNormalizedLoss.CountSupervised(b.Labels, b.BatchSize));
            long tokens = micro.Sum(b => b.AttentionMask.Sum());
            optimizer.ZeroGrad();
            double loss = 0;
            foreach (var batch in micro)
            {
                dropout.Training = true;
                var (inputs, labels) = ToInputs(batch);
                var l = TokenNormalizedLoss.Compute(model.Forward(inputs), labels, supervised);
                l.Backward();
                loss += l.Item();
                dropout.Advance();
            }
            if (!double.IsFinite(loss))
                throw new TrainingDivergedException($"step {step + 1}: the loss is {loss}; stopping (the last checkpoint in {s.OutputDir}/checkpoints is intact)");
            var (lr, gradNorm) = RunSetup.Update(s, optimizer, step, warmup, total);
            var (devicePeak, deviceReserved) = StepReport.DeviceMemory(device);
            var report = new StepReport(step + 1, total, loss, lr, gradNorm, tokens / sw.Elapsed.TotalSeconds, supervised,
                Environment.WorkingSet / 1e6, sw.Elapsed.TotalSeconds, devicePeak, deviceReserved);
            reports.Add(report);
            _log.Step(report);
            bool last = step + 1 == total;
            if (eval.Count > 0 && (last || (s.EvalEverySteps > 0 && (step + 1) % s.EvalEverySteps == 0)))
                _log.Eval(Evaluate(model, collator, eval, step + 1, dropout));
            if (RunSetup.CheckpointDue(s, step + 1, total)) RunSetup.SaveCheckpoint(s, step + 1, adapters, optimizer);
        }
        _log.Info($"adapter saved to {RunSetup.SaveFinalAdapter(s, adapters)}");
        return reports;
    }

    /// <summary>Eval loss (mean over supervised tokens) and next-token accuracy, adapters on, no dropout, no grad.</summary>
    public EvalReport Evaluate(SmolVlmModel model, SftCollator collator, IReadOnlyList<EncodedSample> eval, int step, DropoutContext dropout)
    {
        bool was = dropout.Training;
        dropout.Training = false;
        using var _ = GradMode.NoGrad();
        double lossSum = 0;
        long correct = 0, counted = 0;
        for (int i = 0; i < eval.Count; i += s.EvalBatchSize)
        {
            var batch = collator.Collate(eval.Skip(i).Take(s.EvalBatchSize).ToList());
            var (inputs, labels) = ToInputs(batch);
            var logits = model.Forward(inputs);
            long n = TokenNormalizedLoss.CountSupervised(batch.Labels, batch.BatchSize);
            lossSum += TokenNormalizedLoss.Compute(logits, labels, n).Item() * n;
            var (c, t) = TokenNormalizedLoss.TokenAccuracy(logits.ToFloatArray(), batch.Labels, batch.BatchSize, logits.Shape[2]);
            correct += c;
            counted += t;
        }
        dropout.Training = was;
        return new EvalReport(step, counted == 0 ? 0 : lossSum / counted, counted == 0 ? 0 : (double)correct / counted, counted);
    }

    (SmolVlmInputs Inputs, Tensor Labels) ToInputs(SftBatch b)
    {
        var inputs = new SmolVlmInputs
        {
            InputIds = b.InputIds, Batch = b.BatchSize, AttentionMask = b.AttentionMask,
            PixelValues = b.MaxTiles > 0 ? b.PixelValues : null, TilesPerSample = b.MaxTiles, TileSize = b.TileSize,
        };
        return (inputs, Ops.FromArray(b.Labels, new Shape(b.BatchSize, b.SequenceLength), device));
    }

    (List<EncodedSample> Train, List<EncodedSample> Eval) LoadData(SmolVlmProcessor processor)
    {
        var options = new DatasetOptions { OnBadRecord = s.OnBadRecord, AllowOutsideRoot = s.AllowOutsideRoot, Split = s.DataSplit, Config = s.DataConfig, Log = _log.Info };
        var encoder = new SftEncoder(processor, new EncodingOptions { AssistantOnly = s.AssistantOnly, Overflow = s.Overflow });
        var log = new BadRecordLog(s.OnBadRecord);
        List<EncodedSample> Encode(string path, string split)
        {
            if (!DatasetReader.Exists(path)) throw new FileNotFoundException($"{path}: data file not found");
            using var ds = DatasetReader.OpenSft(path, options with { Split = split });
            var list = new List<EncodedSample>();
            foreach (var ex in ds.Examples(log))
            {
                try
                {
                    if (encoder.Encode(ex) is { } e) list.Add(e);
                }
                catch (DatasetRecordException e) when (s.OnBadRecord == BadRecordPolicy.Skip)
                {
                    log.Handle(e);
                }
            }
            return list;
        }
        var train = Encode(s.TrainData, s.DataSplit);
        List<EncodedSample> eval;
        if (s.EvalData != null) eval = Encode(s.EvalData, s.EvalSplit);
        else if (s.EvalCount > 0 || s.EvalFraction > 0)
        {
            int want = s.EvalCount > 0 ? s.EvalCount : (int)Math.Ceiling(s.EvalFraction * train.Count - 1e-9);
            var order = SeededShuffle.Permutation(train.Count, s.Seed ^ 0xE7A1);
            var held = order.Take(Math.Min(want, train.Count / 2)).ToHashSet();
            eval = held.Order().Select(i => train[i]).ToList();
            train = train.Where((_, i) => !held.Contains(i)).ToList();
        }
        else eval = [];
        if (log.SkippedCount > 0) _log.Warn(log.Summary());
        return (train, eval);
    }

    sealed class NullObserver : ITrainingObserver;
}
