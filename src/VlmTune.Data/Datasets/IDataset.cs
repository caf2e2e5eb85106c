namespace VlmTune.Data.Datasets;

/// <summary>
/// A record source with random access: what the planning pass and the streamed loader read. <see cref="JsonlDataset{TExample}"/>
/// is one; another format (e.g. parquet row groups read lazily, images as in-memory bytes via
/// <see cref="ImageSource.FromBytes"/>) plugs in by implementing this. <see cref="Read"/> must be thread-safe: the
/// loader's workers call it concurrently.
/// </summary>
public interface IDataset<out TExample> : IDisposable
{
    /// <summary>The source as the user named it (used in messages).</summary>
    string Path { get; }

    /// <summary>Number of records, good or bad.</summary>
    int Count { get; }

    /// <summary>Reads and parses record <paramref name="index"/> (0-based, file order).</summary>
    /// <exception cref="DatasetRecordException">The record is malformed; the message names its source and field.</exception>
    TExample Read(int index);
}
