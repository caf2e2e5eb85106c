namespace VlmTune.Checkpoints.Peft;

/// <summary>
/// A PEFT adapter directory that VlmTune cannot read as written: names the file, the field or tensor key, and why.
/// </summary>
public sealed class PeftFormatException : Exception
{
    public string FilePath { get; }
    /// <summary>The JSON field or tensor key at fault; null when the whole file is.</summary>
    public string? Field { get; }
    public string Detail { get; }

    public PeftFormatException(string filePath, string? field, string detail, Exception? inner = null)
        : base($"{filePath}: {(field == null ? "" : $"'{field}': ")}{detail}", inner)
    {
        FilePath = filePath;
        Field = field;
        Detail = detail;
    }
}
