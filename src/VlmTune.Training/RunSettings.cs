using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;

namespace VlmTune.Training;

/// <summary>Everything an SFT or DPO run needs, resolved (a recipe maps onto this; paths are absolute).</summary>
public sealed record RunSettings
{
    public required string ModelDir { get; init; }
    public required string TrainData { get; init; }
    public string? EvalData { get; init; }
    /// <summary>Held-out records split from the training file when <see cref="EvalData"/> is null.</summary>
    public int EvalCount { get; init; }
    /// <summary>Or this fraction of the training records (rounded up) when <see cref="EvalCount"/> is 0.</summary>
    public double EvalFraction { get; init; }
    public required string OutputDir { get; init; }
    public ulong Seed { get; init; } = 42;
    /// <summary>QLoRA base quantisation; null trains LoRA on the stored weights.</summary>
    public QuantizeSettings? Quantization { get; init; }
    public required LoraSettings Lora { get; init; }
    public int Epochs { get; init; } = 1;
    public int MaxSteps { get; init; }
    public int BatchSize { get; init; } = 1;
    public int GradAccum { get; init; } = 1;
    public float Lr { get; init; } = 1e-4f;
    public float WeightDecay { get; init; }
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public float Eps { get; init; } = 1e-8f;
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Linear;
    public int WarmupSteps { get; init; }
    public double WarmupRatio { get; init; }
    public float MaxGradNorm { get; init; } = 1f;
    public bool GradientCheckpointing { get; init; }
    /// <summary>Activation dtype (f32 or bf16); null = auto, the device's default (bf16 on CUDA, f32 on the CPU).</summary>
    public Tensors.DType? ComputeDType { get; init; }
    public int MaxLength { get; init; } = 2048;
    public bool AssistantOnly { get; init; } = true;
    public OverflowPolicy Overflow { get; init; } = OverflowPolicy.Error;
    /// <summary>Which transformers release non-RGB images follow (recipe <c>data.non_rgb_images</c>).</summary>
    public Processing.NonRgbImages NonRgbImages { get; init; } = Processing.NonRgbImages.Transformers5;
    public BadRecordPolicy OnBadRecord { get; init; } = BadRecordPolicy.Error;
    public bool AllowOutsideRoot { get; init; }
    /// <summary>Parquet folders and Hub datasets: the training split, the split for <see cref="EvalData"/>, the config.</summary>
    public string DataSplit { get; init; } = "train";
    public string EvalSplit { get; init; } = "test";
    public string? DataConfig { get; init; }
    public bool Shuffle { get; init; } = true;
    /// <summary>Background threads preparing batches (decode, preprocess, tokenise); 0 = on the training thread. Never changes results.</summary>
    public int Workers { get; init; }
    /// <summary>Micro-batches prepared ahead (at least 1).</summary>
    public int Prefetch { get; init; } = 2;
    /// <summary>Batch records of similar token length (HF's group_by_length), seeded per epoch.</summary>
    public bool GroupByLength { get; init; }
    /// <summary>Cache image features on disk in the run directory when the vision tower and connector are frozen.</summary>
    public bool FeatureCache { get; init; }
    /// <summary>Size limit of the feature cache in bytes.</summary>
    public long FeatureCacheBytes { get; init; } = 16L << 30;
    public int EvalEverySteps { get; init; }
    public int EvalBatchSize { get; init; } = 1;
    public int CheckpointEverySteps { get; init; }
    public int KeepLast { get; init; } = 2;
    public int LogEverySteps { get; init; } = 1;
    /// <summary>DPO only: loss settings (β, loss type, label smoothing).</summary>
    public Dpo.DpoLossSettings Dpo { get; init; } = new();
    /// <summary>DPO only: cache the reference log-probs on disk (keyed by data, model and configuration).</summary>
    public bool CacheReference { get; init; } = true;
    /// <summary>Identifies the run's configuration (resume refuses a checkpoint made by another).</summary>
    public string ConfigHash { get; init; } = "";
    /// <summary>The configuration without the run length (train.max_steps, train.epochs): what `--extend` compares.</summary>
    public string? RunHash { get; init; }
    /// <summary>Continue a run whose checkpoints differ from this configuration only in the run length (`--extend`).</summary>
    public bool Extend { get; init; }
}
