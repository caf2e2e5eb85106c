namespace VlmTune.Data.Datasets;

/// <summary>
/// Applies a <see cref="BadRecordPolicy"/>: under Error, <see cref="Handle"/> rethrows; under Skip it counts the record
/// and keeps the first <see cref="MaxKept"/> errors for the end-of-run report. Not thread-safe.
/// </summary>
public sealed class BadRecordLog
{
    public const int MaxKept = 20;
    private readonly List<DatasetRecordException> _first = [];

    public BadRecordLog(BadRecordPolicy policy) => Policy = policy;

    public BadRecordPolicy Policy { get; }
    /// <summary>Records left out so far.</summary>
    public int SkippedCount { get; private set; }
    /// <summary>The first <see cref="MaxKept"/> errors, in the order they happened.</summary>
    public IReadOnlyList<DatasetRecordException> FirstErrors => _first;

    /// <summary>Under Skip records the error and returns; under Error throws it.</summary>
    public void Handle(DatasetRecordException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (Policy == BadRecordPolicy.Error) throw error;
        SkippedCount++;
        if (_first.Count < MaxKept) _first.Add(error);
    }

    /// <summary>One line for the end of a run, e.g. "skipped 3 bad record(s); first: train.jsonl:4: ...".</summary>
    public string Summary() => SkippedCount == 0 ? "skipped 0 bad records"
        : $"skipped {SkippedCount} bad record(s); first: {_first[0].Message}";
}
