namespace VlmTune.Data.Datasets;

/// <summary>
/// A dataset of records read on demand: JSONL (<see cref="JsonlDataset{TExample}"/>) or parquet shards
/// (<see cref="Parquet.ParquetDataset{TExample}"/>). Records are numbered 0..Count-1 in file order.
/// </summary>
public interface IRecordDataset<TExample> : IDisposable
{
    /// <summary>The dataset as the caller named it (used in messages).</summary>
    string Path { get; }
    /// <summary>Number of records, good or bad.</summary>
    int Count { get; }
    /// <summary>Reads and parses record <paramref name="index"/>.</summary>
    /// <exception cref="DatasetRecordException">The record is not valid.</exception>
    TExample Read(int index);
    /// <summary>The records in <paramref name="order"/> (default: file order); bad ones go to <paramref name="log"/>.</summary>
    IEnumerable<TExample> Examples(BadRecordLog log, IEnumerable<int>? order = null);
}
