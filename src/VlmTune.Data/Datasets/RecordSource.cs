namespace VlmTune.Data.Datasets;

/// <summary>Where a record came from: the JSONL file as the user named it and the 1-based line number.</summary>
public readonly record struct RecordSource(string File, int Line)
{
    public override string ToString() => $"{File}:{Line}";
}
