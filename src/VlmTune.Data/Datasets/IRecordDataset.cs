namespace VlmTune.Data.Datasets;

/// <summary>
/// A dataset of records read on demand: JSONL (<see cref="JsonlDataset{TExample}"/>) or parquet shards
/// (<see cref="Parquet.ParquetDataset{TExample}"/>). Records are numbered 0..Count-1 in file order. Random access
/// (<see cref="IDataset{TExample}.Read"/>, thread-safe) is what the planning pass and the streamed loader use.
/// </summary>
public interface IRecordDataset<TExample> : IDataset<TExample>
{
    /// <summary>The records in <paramref name="order"/> (default: file order); bad ones go to <paramref name="log"/>.</summary>
    IEnumerable<TExample> Examples(BadRecordLog log, IEnumerable<int>? order = null);
}
