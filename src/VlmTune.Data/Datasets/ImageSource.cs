using VlmTune.Images;

namespace VlmTune.Data.Datasets;

/// <summary>
/// One image of a record, loaded only when <see cref="Load"/> is called: a file (already resolved against the
/// dataset root and checked to exist), the bytes of a <c>data:image/...;base64,</c> URI, or bytes already in memory
/// (a record source that stores images inline, e.g. a parquet column).
/// </summary>
public sealed class ImageSource
{
    private readonly string? _dataUri;
    private readonly ReadOnlyMemory<byte>? _bytes;

    private ImageSource(RecordSource record, string fieldPath, string? path, string? dataUri, ReadOnlyMemory<byte>? bytes = null)
    {
        Record = record;
        FieldPath = fieldPath;
        FilePath = path;
        _dataUri = dataUri;
        _bytes = bytes;
    }

    /// <summary>The record that names this image.</summary>
    public RecordSource Record { get; }
    /// <summary>Field of the record, e.g. <c>images[1]</c>.</summary>
    public string FieldPath { get; }
    /// <summary>The resolved file path, or null for a data URI.</summary>
    public string? FilePath { get; }

    /// <summary>A short label for messages: the file path, "data URI" or "embedded image".</summary>
    public string Label => FilePath ?? (_bytes is null ? "data URI" : "embedded image");

    internal static ImageSource FromFile(RecordSource record, string fieldPath, string path) => new(record, fieldPath, path, null);

    internal static ImageSource FromDataUri(RecordSource record, string fieldPath, string uri) => new(record, fieldPath, null, uri);

    /// <summary>An image whose encoded bytes (PNG or JPEG) are already in memory; they are not copied.</summary>
    public static ImageSource FromBytes(RecordSource record, string fieldPath, ReadOnlyMemory<byte> bytes) =>
        new(record, fieldPath, null, null, bytes);

    /// <summary>The encoded bytes (PNG or JPEG) as stored: the file, the data URI's payload, or the in-memory bytes.</summary>
    /// <exception cref="DatasetRecordException">The file is unreadable or the data URI is not base64.</exception>
    public ReadOnlyMemory<byte> ReadBytes() => _bytes ?? (FilePath is null ? DecodeDataUri() : ReadFile(FilePath));

    /// <summary>Reads and decodes the image (PNG or JPEG) to RGB (Pillow's <c>convert("RGB")</c>).</summary>
    /// <exception cref="DatasetRecordException">The file is unreadable or the bytes are not a decodable image.</exception>
    public RgbImage Load() => Open().ToRgb();

    /// <summary>Reads and decodes the image in its own mode (RGBA, gray, palette, ...), as Pillow's <c>Image.open</c>.</summary>
    /// <exception cref="DatasetRecordException">The file is unreadable or the bytes are not a decodable image.</exception>
    public DecodedImage Open() => Open(ReadBytes().Span);

    /// <summary>Decodes bytes obtained from <see cref="ReadBytes"/>, with this image's record and field in errors.</summary>
    public DecodedImage Open(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return ImageDecoder.Open(bytes, Label);
        }
        catch (ImageFormatException e)
        {
            throw new DatasetRecordException(Record, FieldPath, $"cannot decode image: {e.Message}", e);
        }
    }

    /// <summary>The decoded size (EXIF orientation applied) and mode from the headers alone: no pixel is decoded.</summary>
    /// <exception cref="DatasetRecordException">The file is unreadable or its headers are not a supported image's.</exception>
    public (int Width, int Height, ImageMode Mode) ReadHeader()
    {
        var bytes = ReadBytes();
        try
        {
            return ImageHeader.Read(bytes.Span, Label);
        }
        catch (ImageFormatException e)
        {
            throw new DatasetRecordException(Record, FieldPath, $"cannot decode image: {e.Message}", e);
        }
    }

    private byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetRecordException(Record, FieldPath, $"cannot read image file {path}: {e.Message}", e);
        }
    }

    private byte[] DecodeDataUri()
    {
        string uri = _dataUri!;
        int comma = uri.IndexOf(',', StringComparison.Ordinal);
        try
        {
            return Convert.FromBase64String(uri[(comma + 1)..]);
        }
        catch (FormatException e)
        {
            throw new DatasetRecordException(Record, FieldPath, "data URI: the payload is not valid base64", e);
        }
    }
}
