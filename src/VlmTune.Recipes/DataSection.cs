namespace VlmTune.Recipes;

/// <summary>YAML <c>data:</c> — JSONL inputs and how records become sequences.</summary>
public sealed record DataSection
{
    /// <summary>Absolute path of the training JSONL or parquet file / folder, or a Hub dataset id (required; relative paths in the file resolve against the recipe's folder).</summary>
    public string Train { get; init; } = "";
    /// <summary>Absolute path of an evaluation JSONL, or null (then <see cref="EvalFraction"/>/<see cref="EvalCount"/> may split train).</summary>
    public string? Eval { get; init; }
    /// <summary>Share of train held out for evaluation, in [0, 1).</summary>
    public double EvalFraction { get; init; }
    /// <summary>Number of train records held out for evaluation.</summary>
    public int EvalCount { get; init; }
    /// <summary>Longest sequence in tokens, image tokens included.</summary>
    public int MaxLength { get; init; } = 2048;
    /// <summary>Loss only on assistant turns (image, pad and prompt tokens masked).</summary>
    public bool AssistantOnly { get; init; } = true;
    public OverflowPolicy Overflow { get; init; } = OverflowPolicy.Error;
    public BadRecordPolicy OnBadRecord { get; init; } = BadRecordPolicy.Error;
    /// <summary>Which transformers release non-RGB images follow (datasets.md, "Images that are not plain RGB").</summary>
    public NonRgbImages NonRgbImages { get; init; } = NonRgbImages.Transformers5;
    /// <summary>Allow image paths that leave the JSONL file's folder.</summary>
    public bool AllowOutsideRoot { get; init; }
    public bool Shuffle { get; init; } = true;
    /// <summary>Background threads that decode and preprocess upcoming batches; −1 = auto (<see cref="AutoWorkers"/>), 0 = on the training thread.</summary>
    public int Workers { get; init; } = -1;
    /// <summary>Micro-batches prepared ahead of the one training (bounds the memory of prepared pixels).</summary>
    public int Prefetch { get; init; } = 2;
    /// <summary>Batch records of similar token length (HF's group_by_length): less padding, still seeded.</summary>
    public bool GroupByLength { get; init; }
    /// <summary>Keep image features (connector output) on disk in the run directory when the vision tower and connector are frozen.</summary>
    public bool FeatureCache { get; init; } = true;
    /// <summary>Size limit of the feature cache in MiB.</summary>
    public int FeatureCacheMb { get; init; } = 16384;

    /// <summary>
    /// The auto worker count: one per four cores, at least 1 and at most 8 — 1 on a 2-core machine (the other core
    /// computes), 4 on a 16-core GPU host (decode + resize of 640×480 JPEGs at ~20 ms each keeps a GPU step fed).
    /// </summary>
    public static int AutoWorkers(int processorCount) => Math.Clamp(processorCount / 4, 1, 8);
    /// <summary>Parquet folders and Hub datasets: the training split.</summary>
    public string Split { get; init; } = "train";
    /// <summary>Parquet folders and Hub datasets: the split read when <see cref="Eval"/> names one.</summary>
    public string EvalSplit { get; init; } = "test";
    /// <summary>Parquet folders and Hub datasets: the config (subset), or null for the only one.</summary>
    public string? Config { get; init; }
}
