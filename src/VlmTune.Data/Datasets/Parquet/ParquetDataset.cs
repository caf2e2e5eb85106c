using Parquet;
using Parquet.Serialization;

namespace VlmTune.Data.Datasets.Parquet;

/// <summary>
/// Parquet shards read one row group at a time. Opening reads only the footers (row groups and row counts); a record
/// is read by deserialising its row group (the four last used are kept, so a file-order pass — or the planning pass's
/// threads, each in its own range — decodes each row group once), so at most four row groups' embedded images are in
/// memory, never a whole shard's. Shuffled training reads may re-read a group: a shard's row-group size bounds that cost. Rows become records with
/// <see cref="ParquetRow"/>, then go through the JSONL parser's validation; errors name the file, the row group and
/// the row. Reads are thread-safe. Dispose releases the cached row groups.
/// </summary>
public sealed class ParquetDataset<TExample> : IRecordDataset<TExample>
{
    private readonly string[] _files;           // (shards) paths as resolved
    private readonly List<(int File, int Group)> _groups = [];
    private readonly List<int> _groupStart = [];   // (groups + 1) first record index of each row group
    private readonly Func<RecordParser, ParquetRow, TExample> _parse;
    private readonly object _lock = new();
    // The last few row groups read, most recent first: the planning pass reads from several threads, each in its own
    // range of records, and a loader batch touches a few groups; one slot would re-read a group at every switch.
    private readonly List<(int Group, IList<Dictionary<string, object>> Rows)> _recent = [];
    private const int RecentGroups = 4;

    internal ParquetDataset(string path, IReadOnlyList<string> files, DatasetOptions options, Func<RecordParser, ParquetRow, TExample> parse)
    {
        Path = path;
        Options = options;
        _files = [.. files];
        _parse = parse;
        int start = 0;
        for (int f = 0; f < _files.Length; f++)
        {
            long[] sizes = RowGroupSizes(_files[f]);
            for (int g = 0; g < sizes.Length; g++)
            {
                _groups.Add((f, g));
                _groupStart.Add(start);
                start = checked(start + (int)sizes[g]);
            }
        }
        _groupStart.Add(start);
    }

    public string Path { get; }
    public DatasetOptions Options { get; }
    public int Count => _groupStart[^1];
    /// <summary>The shard files, in reading order.</summary>
    public IReadOnlyList<string> Files => _files;
    /// <summary>Row groups over all shards.</summary>
    public int RowGroupCount => _groups.Count;
    /// <summary>How many times a row group was deserialised so far (a file-order pass reads each once).</summary>
    public int RowGroupReads { get; private set; }

    public TExample Read(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"record {index} of {Count}");
        int g = _groupStart.BinarySearch(index);
        if (g < 0) g = ~g - 1;
        while (_groupStart[g + 1] <= index) g++;   // past empty row groups
        while (_groupStart[g] > index) g--;
        var (file, group) = _groups[g];
        var rows = Rows(g);
        int row = index - _groupStart[g];
        var source = new RecordSource(_files[file], row) { RowGroup = group };
        string root = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_files[file]))!;
        var parser = new RecordParser(source, root, Options);
        return _parse(parser, new ParquetRow(source, rows[row], parser));
    }

    public IEnumerable<TExample> Examples(BadRecordLog log, IEnumerable<int>? order = null) => RecordDatasets.Examples(this, log, order);

    public void Dispose()
    {
        lock (_lock) _recent.Clear();
    }

    private IList<Dictionary<string, object>> Rows(int g)
    {
        lock (_lock)
        {
            int at = _recent.FindIndex(r => r.Group == g);
            if (at >= 0)
            {
                var hit = _recent[at];
                _recent.RemoveAt(at);
                _recent.Insert(0, hit);
                return hit.Rows;
            }
            var (file, group) = _groups[g];
            IList<Dictionary<string, object>> rows;
            try
            {
                using var stream = File.OpenRead(_files[file]);
                rows = ParquetSerializer.DeserializeUntypedAsync(stream, null, group).GetAwaiter().GetResult().Data;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException or ArgumentException)
            {
                throw new DatasetRecordException(new RecordSource(_files[file], 0) { RowGroup = group }, null, $"cannot read the row group: {e.Message}", e);
            }
            _recent.Insert(0, (g, rows));
            if (_recent.Count > RecentGroups) _recent.RemoveAt(_recent.Count - 1);
            RowGroupReads++;
            return rows;
        }
    }

    private static long[] RowGroupSizes(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            var reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
            try
            {
                var sizes = new long[reader.RowGroupCount];
                for (int i = 0; i < sizes.Length; i++)
                {
                    using var group = reader.OpenRowGroupReader(i);
                    sizes[i] = group.RowCount;
                }
                return sizes;
            }
            finally
            {
                reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"dataset file not found: {file}", file, e);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"{file}: not a readable parquet file ({e.Message})", e);
        }
    }
}
