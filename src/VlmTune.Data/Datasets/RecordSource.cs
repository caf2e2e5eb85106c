namespace VlmTune.Data.Datasets;

/// <summary>
/// Where a record came from: the file as the user named it and the 1-based line number (JSONL), or for parquet the
/// row group (0-based) in <see cref="RowGroup"/> and the row within it (0-based) in <see cref="Line"/>.
/// </summary>
public readonly record struct RecordSource(string File, int Line)
{
    /// <summary>The parquet row group, or null for a JSONL line.</summary>
    public int? RowGroup { get; init; }

    public override string ToString() => RowGroup is int g ? $"{File}: row group {g}, row {Line}" : $"{File}:{Line}";
}
