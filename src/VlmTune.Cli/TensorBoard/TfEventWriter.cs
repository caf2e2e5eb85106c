using System.Buffers.Binary;

namespace VlmTune.Cli.TensorBoard;

/// <summary>
/// Writes a TensorBoard event file, <c>events.out.tfevents.{unix seconds}.{host}.{pid}.{n}</c> (n: 0, or the next free number), that
/// <c>tensorboard --logdir</c> reads. Each record is TFRecord-framed: uint64 length (LE), masked CRC-32C of those 8
/// bytes, the data, masked CRC-32C of the data. The data is a serialised <c>tensorflow.Event</c>
/// (tensorboard/compat/proto/event.proto): wall_time = 1 (double), step = 2 (int64), file_version = 3 (string, the
/// first record, "brain.Event:2"), summary = 5; <c>Summary</c> holds repeated value = 1, each
/// <c>Summary.Value</c> { tag = 1 (string), simple_value = 2 (float) }. Records are flushed as written, so a live
/// TensorBoard sees every step.
/// </summary>
public sealed class TfEventWriter : IDisposable
{
    public const string FileVersion = "brain.Event:2";

    private readonly FileStream _file;
    private readonly Func<double> _clock;

    /// <param name="clock">Wall time in seconds since the epoch (tests pass a fixed one).</param>
    public TfEventWriter(string directory, Func<double>? clock = null, string? fileName = null)
    {
        _clock = clock ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        Directory.CreateDirectory(directory);
        double now = _clock();
        // The last number makes the name unique when a process writes several files in one second (a resumed or
        // extended run in the same process, as tests and the demo do); TensorBoard reads them all in name order.
        for (int n = 0; ; n++)
        {
            Path = System.IO.Path.Combine(directory, fileName ?? $"events.out.tfevents.{(long)now}.{Environment.MachineName}.{Environment.ProcessId}.{n}");
            try
            {
                _file = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
                break;
            }
            catch (IOException) when (fileName == null && File.Exists(Path) && n < 1000) { }
        }
        WriteRecord(Event(now, 0, w => w.String(3, FileVersion)));
    }

    public string Path { get; }

    /// <summary>One event at <paramref name="step"/> with a scalar per (tag, value).</summary>
    public void Scalars(long step, params (string Tag, double Value)[] scalars)
    {
        if (scalars.Length == 0) return;
        var summary = new ProtoWriter();
        foreach (var (tag, value) in scalars)
        {
            var v = new ProtoWriter();
            v.String(1, tag);
            v.Float(2, (float)value);
            summary.Message(1, v);
        }
        WriteRecord(Event(_clock(), step, w => w.Message(5, summary)));
    }

    private static byte[] Event(double wallTime, long step, Action<ProtoWriter> body)
    {
        var e = new ProtoWriter();
        e.Double(1, wallTime);
        if (step != 0) e.Int64(2, step);
        body(e);
        return e.ToArray();
    }

    private void WriteRecord(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(data));
        _file.Write(header);
        _file.Write(data);
        _file.Write(footer);
        _file.Flush();
    }

    public void Dispose() => _file.Dispose();

    /// <summary>The few protobuf wire encodings an Event needs (varint, fixed64, fixed32, length-delimited).</summary>
    private sealed class ProtoWriter
    {
        private readonly MemoryStream _buffer = new();

        public void Double(int field, double value)
        {
            Tag(field, 1);
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteDoubleLittleEndian(b, value);
            _buffer.Write(b);
        }

        public void Float(int field, float value)
        {
            Tag(field, 5);
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(b, value);
            _buffer.Write(b);
        }

        public void Int64(int field, long value)
        {
            Tag(field, 0);
            Varint((ulong)value);
        }

        public void String(int field, string value) => Bytes(field, System.Text.Encoding.UTF8.GetBytes(value));

        public void Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _buffer.ToArray();

        private void Bytes(int field, byte[] bytes)
        {
            Tag(field, 2);
            Varint((ulong)bytes.Length);
            _buffer.Write(bytes);
        }

        private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

        private void Varint(ulong v)
        {
            while (v >= 0x80)
            {
                _buffer.WriteByte((byte)(v | 0x80));
                v >>= 7;
            }
            _buffer.WriteByte((byte)v);
        }
    }
}
