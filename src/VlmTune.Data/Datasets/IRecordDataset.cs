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

/// <summary>What every <see cref="IRecordDataset{TExample}"/> does the same way.</summary>
internal static class RecordDatasets
{
    /// <summary>
    /// The records of <paramref name="dataset"/> in <paramref name="order"/> (default: file order). Bad records go to
    /// <paramref name="log"/>: skipped and counted under <see cref="BadRecordPolicy.Skip"/>, thrown under Error.
    /// </summary>
    public static IEnumerable<TExample> Examples<TExample>(IDataset<TExample> dataset, BadRecordLog log, IEnumerable<int>? order)
    {
        ArgumentNullException.ThrowIfNull(log);
        foreach (int i in order ?? Enumerable.Range(0, dataset.Count))
        {
            TExample example;
            try { example = dataset.Read(i); }
            catch (DatasetRecordException e) { log.Handle(e); continue; }
            yield return example;
        }
    }
}
