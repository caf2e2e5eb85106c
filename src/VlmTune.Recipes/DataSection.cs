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
    /// <summary>Allow image paths that leave the JSONL file's folder.</summary>
    public bool AllowOutsideRoot { get; init; }
    public bool Shuffle { get; init; } = true;
    /// <summary>Parquet folders and Hub datasets: the training split.</summary>
    public string Split { get; init; } = "train";
    /// <summary>Parquet folders and Hub datasets: the split read when <see cref="Eval"/> names one.</summary>
    public string EvalSplit { get; init; } = "test";
    /// <summary>Parquet folders and Hub datasets: the config (subset), or null for the only one.</summary>
    public string? Config { get; init; }
}
