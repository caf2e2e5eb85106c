using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace VlmTune.Data.Datasets;

/// <summary>
/// A JSONL file read on demand. Opening scans the file once for line starts (16 bytes per record kept in memory, no
/// record parsed); <see cref="Read"/> then reads and parses one line with a positioned read, so a shuffled pass never
/// loads the file at once. Blank lines are allowed and skipped; line numbers in errors count every line (1-based).
/// Reads are thread-safe. Dispose to close the file.
/// </summary>
public sealed class JsonlDataset<TExample> : IRecordDataset<TExample>
{
    private readonly SafeFileHandle _file;
    private readonly long[] _offsets;    // (records) byte offset of each record's line
    private readonly int[] _lengths;     // (records) byte length without the line break
    private readonly int[] _lines;       // (records) 1-based line number
    private readonly Func<RecordParser, JsonElement, TExample> _parse;
    private readonly string _root;

    internal JsonlDataset(string path, DatasetOptions options, Func<RecordParser, JsonElement, TExample> parse)
    {
        ArgumentNullException.ThrowIfNull(path);
        Path = path;
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _parse = parse;
        string full = System.IO.Path.GetFullPath(path);
        _root = System.IO.Path.GetDirectoryName(full)!;
        try
        {
            _file = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"dataset file not found: {path}", path, e);
        }
        (_offsets, _lengths, _lines) = ScanLines(_file, path, options.MaxRecordBytes);
    }

    /// <summary>The file as the caller named it (used in messages).</summary>
    public string Path { get; }
    public DatasetOptions Options { get; }
    /// <summary>Number of non-blank lines (records, good or bad).</summary>
    public int Count => _offsets.Length;

    /// <summary>Line number of record <paramref name="index"/>.</summary>
    public int LineOf(int index) => _lines[index];

    /// <summary>Reads and parses record <paramref name="index"/> (0-based, file order).</summary>
    /// <exception cref="DatasetRecordException">The line is not valid JSON or not a valid record.</exception>
    public TExample Read(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"record {index} of {Count}");
        var source = new RecordSource(Path, _lines[index]);
        var bytes = new byte[_lengths[index]];
        RandomAccess.Read(_file, bytes, _offsets[index]);
        // A UTF-8 BOM starting the file is not content (the line scan already treats it so).
        var json = _offsets[index] == 0 && bytes.AsSpan().StartsWith("\uFEFF"u8) ? bytes.AsMemory(3) : bytes.AsMemory();
        // Invalid UTF-8 inside a string would only fail later, when the string is read, without file or line.
        if (InvalidUtf8At(json.Span) is int bad)
            throw new DatasetRecordException(source, null, $"invalid UTF-8 at byte {bad + 1} of the line (the file must be UTF-8 text)");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            string where = e.BytePositionInLine is long b ? $" at byte {b + 1}" : "";
            throw new DatasetRecordException(source, null, $"malformed JSON{where}: {FirstSentence(e.Message)}", e);
        }
        using (doc) return _parse(new RecordParser(source, _root, Options), doc.RootElement);
    }

    /// <summary>
    /// The records in <paramref name="order"/> (default: file order). Bad records go to <paramref name="log"/>:
    /// skipped and counted under <see cref="BadRecordPolicy.Skip"/>, thrown under Error.
    /// </summary>
    public IEnumerable<TExample> Examples(BadRecordLog log, IEnumerable<int>? order = null) => RecordDatasets.Examples(this, log, order);

    public void Dispose() => _file.Dispose();

    /// <summary>0-based offset of the first byte that does not start or continue a valid UTF-8 sequence, or null.</summary>
    private static int? InvalidUtf8At(ReadOnlySpan<byte> bytes)
    {
        int at = 0;
        while (at < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[at..], out _, out int consumed) != System.Buffers.OperationStatus.Done) return at;
            at += consumed;
        }
        return null;
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd();
    }

    private static (long[], int[], int[]) ScanLines(SafeFileHandle file, string path, int maxRecordBytes)
    {
        var offsets = new List<long>();
        var lengths = new List<int>();
        var lines = new List<int>();
        var buffer = new byte[1 << 16];
        long position = 0, lineStart = 0;
        int line = 1;
        bool blank = true;
        int read;
        while ((read = RandomAccess.Read(file, buffer, position)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                byte b = buffer[i];
                long at = position + i;
                if (b == (byte)'\n')
                {
                    AddLine(lineStart, at, line, blank);
                    line++;
                    lineStart = at + 1;
                    blank = true;
                }
                else if (blank && !(b is (byte)' ' or (byte)'\t' or (byte)'\r'))
                {
                    // A UTF-8 BOM at the very start of the file is not content.
                    bool bom = at < 3 && lineStart == 0 && b is 0xEF or 0xBB or 0xBF;
                    if (!bom) blank = false;
                }
            }
            position += read;
        }
        AddLine(lineStart, position, line, blank);
        return (offsets.ToArray(), lengths.ToArray(), lines.ToArray());

        void AddLine(long start, long end, int number, bool isBlank)
        {
            if (isBlank) return;
            long length = end - start;
            if (length > maxRecordBytes)
                throw new DatasetRecordException(new RecordSource(path, number), null,
                    $"line is {length} bytes, more than the {maxRecordBytes}-byte limit for one record (is this a JSONL file?)");
            offsets.Add(start);
            lengths.Add((int)length);
            lines.Add(number);
        }
    }
}
