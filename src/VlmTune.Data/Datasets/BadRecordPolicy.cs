namespace VlmTune.Data.Datasets;

/// <summary>What happens to a record that cannot be used (malformed, missing image, too long under Error, ...).</summary>
public enum BadRecordPolicy
{
    /// <summary>Stop with a <see cref="DatasetRecordException"/> naming file:line and field.</summary>
    Error,
    /// <summary>Leave the record out and count it (<see cref="BadRecordLog"/>); the count is reported at the end.</summary>
    Skip,
}
