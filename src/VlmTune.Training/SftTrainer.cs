using System.Diagnostics;
using VlmTune.Data.Collation;
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
/// saving (periodic checkpoints, final adapter). Data: a planning pass (headers only), then micro-batches streamed by
/// background workers (<see cref="DataFeed"/>). Reproducible from the seed: data order = seeded permutation per epoch,
/// dropout masks = (seed, module, micro-step); a resumed run continues bit-identically, at any worker count.
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

        using var data = DataFeed.OpenSft(s, processor, model, adapters, _log);
        var (train, eval) = (data.Train, data.Eval);
        _log.Info($"data: {train.Count} training samples, {eval.Count} eval samples");
        if (train.Count == 0) throw new InvalidOperationException($"{s.TrainData}: no usable training samples");
        int perStep = s.BatchSize * s.GradAccum;
        int total = RunSetup.TotalSteps(s, train.Count);
        int warmup = LrSchedule.WarmupSteps(s.WarmupSteps, s.WarmupRatio, total);
        var parameters = adapters.TrainableParameters.Select(p => p.Tensor).ToList();
        var optimizer = new AdamW(parameters, s.Lr, s.Beta1, s.Beta2, s.Eps, s.WeightDecay);

        var order = data.Order();
        _log.Info($"batches: padding {data.PaddingFraction(order) * 100:F1}% of the tokens of an epoch" +
                  (s.GroupByLength ? " (grouped by length)" : "") + $"; {s.Workers} data worker(s), prefetch {s.Prefetch}");
        RunSetup.CheckSchedule(s, warmup, total, _log);
        int start = RunSetup.Resume(s, adapters, optimizer, _log);
        dropout.Step = (long)start * s.GradAccum;      // the dropout stream is a function of (seed, micro-step) too

        // Micro-batch k of the run = samples order[k·B, (k+1)·B): a pure function of (seed, k), prepared ahead by the workers.
        using var queue = data.Queue(k => data.TrainLoader.LoadSft(order.Slice(k * s.BatchSize, s.BatchSize)),
            (long)start * s.GradAccum, (long)total * s.GradAccum);

        // ---- loop ----
        var reports = new List<StepReport>();
        for (int step = start; step < total; step++)
        {
            if (cancel.IsCancellationRequested)
            {
                if (RunSetup.SaveCheckpoint(s, step, total, adapters, optimizer, _log) is { } saved) _log.Info($"interrupted: checkpoint {saved}");
                return reports;
            }
            var sw = Stopwatch.StartNew();
            var micro = Enumerable.Range(0, s.GradAccum).Select(_ => queue.Take()).ToList();
            long supervised = micro.Sum(b => TokenNormalizedLoss.CountSupervised(b.Text.Labels, b.Text.BatchSize));
            long tokens = micro.Sum(b => b.Text.AttentionMask.Sum());
            optimizer.ZeroGrad();
            double loss = 0;
            foreach (var batch in micro)
            {
                dropout.Training = true;
                var inputs = ToInputs(batch.Text);
                var hidden = model.Hidden(inputs, data.Features(model, batch.Images), batch.TilesPerSample);
                var l = TokenNormalizedLoss.Compute(model, hidden, SupervisedTokens.Of(batch.Text.Labels, batch.Text.BatchSize), supervised);
                l.Backward();
                loss += l.Item();
                dropout.Advance();
            }
            if (!double.IsFinite(loss))
                throw new TrainingDivergedException($"step {step + 1}: the loss is {loss}; stopping (the last checkpoint in {s.OutputDir}/checkpoints is intact)");
            var (lr, gradNorm) = RunSetup.Update(s, optimizer, step, warmup, total);
            var (devicePeak, deviceReserved) = StepReport.DeviceMemory(device);
            var report = new StepReport(step + 1, total, loss, lr, gradNorm, tokens / sw.Elapsed.TotalSeconds, supervised,
                StepReport.PeakRssMb(), sw.Elapsed.TotalSeconds, devicePeak, deviceReserved);
            reports.Add(report);
            _log.Step(report);
            bool last = step + 1 == total;
            if (last || order.EpochOf((long)(step + 1) * perStep) != order.EpochOf((long)step * perStep))
                data.LogCache($"after epoch {order.EpochOf((long)step * perStep) + 1}");
            if (eval.Count > 0 && (last || (s.EvalEverySteps > 0 && (step + 1) % s.EvalEverySteps == 0)))
                _log.Eval(Evaluate(model, data, step + 1, dropout));
            if (RunSetup.CheckpointDue(s, step + 1, total)) RunSetup.SaveCheckpoint(s, step + 1, total, adapters, optimizer, _log);
        }
        _log.Info($"adapter saved to {RunSetup.SaveFinalAdapter(s, adapters)}");
        return reports;
    }

    /// <summary>Eval loss (mean over supervised tokens) and next-token accuracy, adapters on, no dropout, no grad.</summary>
    EvalReport Evaluate(SmolVlmModel model, DataFeed data, int step, DropoutContext dropout)
    {
        bool was = dropout.Training;
        dropout.Training = false;
        using var _ = GradMode.NoGrad();
        double lossSum = 0;
        long correct = 0, counted = 0;
        int n = data.Eval.Count, bs = Math.Max(1, s.EvalBatchSize), batches = (n + bs - 1) / bs;
        using var queue = data.Queue(k => data.EvalLoader.LoadSft(Enumerable.Range((int)k * bs, Math.Min(bs, n - (int)k * bs)).ToArray()), 0, batches);
        for (int k = 0; k < batches; k++)
        {
            var batch = queue.Take();
            var hidden = model.Hidden(ToInputs(batch.Text), data.Features(model, batch.Images), batch.TilesPerSample);
            var scored = SupervisedTokens.Of(batch.Text.Labels, batch.Text.BatchSize);
            if (scored.Count == 0) continue;
            var logits = model.LogitsAt(hidden, scored.Rows);
            lossSum -= Ops.Sum(Ops.TokenLogProbs(logits, Ops.FromArray(scored.Targets, new Shape(scored.Count), device))).Item();
            correct += scored.CorrectPerSequence(logits.ToFloatArray(), logits.Shape[1]).Sum();
            counted += scored.Count;
        }
        dropout.Training = was;
        data.LogCache($"during eval at step {step}");
        return new EvalReport(step, counted == 0 ? 0 : lossSum / counted, counted == 0 ? 0 : (double)correct / counted, counted);
    }

    static SmolVlmInputs ToInputs(SftBatch b) => new() { InputIds = b.InputIds, Batch = b.BatchSize, AttentionMask = b.AttentionMask };

    sealed class NullObserver : ITrainingObserver;
}
