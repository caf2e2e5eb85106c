namespace VlmTune.Data.Datasets;

/// <summary>How a dataset is read.</summary>
public sealed record DatasetOptions
{
    public BadRecordPolicy OnBadRecord { get; init; } = BadRecordPolicy.Error;

    /// <summary>
    /// Image paths are resolved against the folder of the JSONL file (the dataset root). A path that leads outside
    /// it (absolute, or with "..") is refused unless this is true.
    /// </summary>
    public bool AllowOutsideRoot { get; init; }

    /// <summary>A line longer than this is refused (protects against a file that is not JSONL at all). 64 MiB.</summary>
    public int MaxRecordBytes { get; init; } = 64 << 20;

    /// <summary>Parquet folders and Hub datasets: the split to read (train, validation, test, or any split name).</summary>
    public string Split { get; init; } = "train";

    /// <summary>Parquet folders and Hub datasets: the config (subset) folder, or null for the only / default one.</summary>
    public string? Config { get; init; }

    /// <summary>Where progress of a Hub download goes (null: nowhere).</summary>
    public Action<string>? Log { get; init; }

    public static DatasetOptions Default { get; } = new();
}
