using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Nn.Lora;
using VlmTune.Training.Dpo;
using R = VlmTune.Recipes;

namespace VlmTune.Training;

/// <summary>The one place a recipe's vocabulary becomes the library's (a switch per enum; no reflection).</summary>
public static class RecipeMapping
{
    static readonly R.DataSection Defaults = new();

    public static RunSettings ToRunSettings(R.Recipe r) => new()
    {
        ModelDir = r.Model.Path,
        TrainData = r.Data.Train,
        EvalData = r.Data.Eval,
        EvalCount = r.Data.EvalCount,
        EvalFraction = r.Data.EvalFraction,
        OutputDir = r.Output.Dir,
        Seed = (ulong)r.Seed,
        Quantization = r.Quantization.Enabled
            ? new QuantizeSettings
            {
                Type = r.Quantization.Type == R.QuantType.Fp4 ? VlmTune.Quantization.QuantType.Fp4 : VlmTune.Quantization.QuantType.Nf4,
                DoubleQuant = r.Quantization.DoubleQuant, Blocksize = r.Quantization.Blocksize, Skip = r.Quantization.Skip.ToList(),
            }
            : null,
        Lora = new LoraSettings
        {
            Targets = r.Lora.TargetsRegex != null ? TargetModules.FromRegex(r.Lora.TargetsRegex)
                : r.Lora.Targets is { IsAllLinear: true } ? TargetModules.AllLinear
                : TargetModules.FromNames(r.Lora.Targets!.Names.ToArray()),
            Towers = r.Lora.Towers.Select(t => t switch
            {
                R.Tower.Vision => Models.SmolVlm.Tower.Vision,
                R.Tower.Connector => Models.SmolVlm.Tower.Connector,
                _ => Models.SmolVlm.Tower.Text,
            }).ToHashSet(),
            ModulesToSave = r.Lora.ModulesToSave.ToList(),
            Lora = new LoraOptions
            {
                Rank = r.Lora.R, Alpha = r.Lora.Alpha, Dropout = (float)r.Lora.Dropout, UseDora = r.Lora.UseDora, UseRsLora = r.Lora.UseRslora,
                Init = r.Lora.Init == R.LoraInit.Gaussian ? Nn.Lora.LoraInit.Gaussian : Nn.Lora.LoraInit.KaimingUniform,
            },
        },
        Epochs = r.Train.Epochs,
        MaxSteps = r.Train.MaxSteps,
        BatchSize = r.Train.BatchSize,
        GradAccum = r.Train.GradAccum,
        Lr = (float)r.Train.Lr,
        WeightDecay = (float)r.Train.WeightDecay,
        Beta1 = (float)r.Train.Betas.Beta1,
        Beta2 = (float)r.Train.Betas.Beta2,
        Eps = (float)r.Train.Eps,
        Schedule = r.Train.Schedule switch
        {
            R.ScheduleKind.Constant => ScheduleKind.Constant,
            R.ScheduleKind.Cosine => ScheduleKind.Cosine,
            _ => ScheduleKind.Linear,
        },
        WarmupSteps = r.Train.WarmupSteps,
        WarmupRatio = r.Train.WarmupRatio,
        MaxGradNorm = (float)r.Train.MaxGradNorm,
        GradientCheckpointing = r.Train.GradientCheckpointing,
        ComputeDType = r.Train.ComputeDType switch
        {
            R.ComputeDType.F32 => Tensors.DType.F32,
            R.ComputeDType.Bf16 => Tensors.DType.BF16,
            _ => null,
        },
        MaxLength = r.Data.MaxLength,
        AssistantOnly = r.Data.AssistantOnly,
        Overflow = r.Data.Overflow switch
        {
            R.OverflowPolicy.Drop => Data.Encoding.OverflowPolicy.Drop,
            R.OverflowPolicy.ShrinkImages => Data.Encoding.OverflowPolicy.ShrinkImages,
            _ => Data.Encoding.OverflowPolicy.Error,
        },
        NonRgbImages = r.Data.NonRgbImages == R.NonRgbImages.Transformers4
            ? Processing.NonRgbImages.Transformers4 : Processing.NonRgbImages.Transformers5,
        OnBadRecord = r.Data.OnBadRecord == R.BadRecordPolicy.Skip ? Data.Datasets.BadRecordPolicy.Skip : Data.Datasets.BadRecordPolicy.Error,
        AllowOutsideRoot = r.Data.AllowOutsideRoot,
        DataSplit = r.Data.Split,
        EvalSplit = r.Data.EvalSplit,
        DataConfig = r.Data.Config,
        Shuffle = r.Data.Shuffle,
        Workers = r.Data.Workers < 0 ? R.DataSection.AutoWorkers(Environment.ProcessorCount) : r.Data.Workers,
        Prefetch = r.Data.Prefetch,
        GroupByLength = r.Data.GroupByLength,
        FeatureCache = r.Data.FeatureCache,
        FeatureCacheBytes = (long)r.Data.FeatureCacheMb << 20,
        EvalEverySteps = r.Eval.EverySteps,
        EvalBatchSize = r.Eval.BatchSize,
        CheckpointEverySteps = r.Checkpoint.EverySteps,
        KeepLast = r.Checkpoint.KeepLast,
        LogEverySteps = r.Logging.EverySteps,
        Dpo = r.Dpo == null ? new DpoLossSettings() : new DpoLossSettings
        {
            Beta = (float)r.Dpo.Beta,
            LabelSmoothing = (float)r.Dpo.LabelSmoothing,
            RpoAlpha = (float)r.Dpo.RpoAlpha,
            LossType = r.Dpo.Loss switch
            {
                R.DpoLossType.Ipo => Dpo.DpoLossType.Ipo,
                R.DpoLossType.Hinge => Dpo.DpoLossType.Hinge,
                R.DpoLossType.Robust => Dpo.DpoLossType.Robust,
                _ => Dpo.DpoLossType.Sigmoid,
            },
        },
        CacheReference = r.Dpo?.CacheReference ?? true,
        // Where it runs is not what it trains: a run may resume on another device, with other data workers, prefetch
        // depth or cache limit (none changes a number: the plan is a function of the seed and the step, and cached
        // features are bit-identical to computed ones). RunHash also leaves out the length of the run (max_steps,
        // epochs), which an explicit --extend may raise.
        ConfigHash = Neutral(r).Hash(),
        RunHash = (Neutral(r) with { Train = r.Train with { MaxSteps = 0, Epochs = 1 } }).Hash(),
    };

    /// <summary>The recipe with what does not change a number (device, data workers, prefetch, cache limit) set to defaults.</summary>
    static R.Recipe Neutral(R.Recipe r) =>
        r with { Device = "auto", Data = r.Data with { Workers = Defaults.Workers, Prefetch = Defaults.Prefetch, FeatureCacheMb = Defaults.FeatureCacheMb } };
}
