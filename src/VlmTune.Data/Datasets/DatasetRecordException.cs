namespace VlmTune.Data.Datasets;

/// <summary>
/// A dataset record cannot be used. The message reads <c>file:line: field.path: problem</c>, e.g.
/// <c>train.jsonl:17: messages[1].content[0].type: unknown content type "video"</c>; the field part is left out when
/// the problem concerns the whole record.
/// </summary>
public sealed class DatasetRecordException : Exception
{
    public RecordSource Record { get; }
    /// <summary>JSON path of the offending field (e.g. <c>images[0]</c>), or null for the whole record.</summary>
    public string? FieldPath { get; }
    public string Problem { get; }

    public DatasetRecordException(RecordSource source, string? fieldPath, string problem, Exception? inner = null)
        : base(fieldPath is null ? $"{source}: {problem}" : $"{source}: {fieldPath}: {problem}", inner)
    {
        Record = source;
        FieldPath = fieldPath;
        Problem = problem;
    }
}
