using VlmTune.Images;

namespace VlmTune.Data.Datasets;

/// <summary>
/// One image of a record, loaded only when <see cref="Load"/> is called: a file (already resolved against the
/// dataset root and checked to exist), the bytes of a <c>data:image/...;base64,</c> URI, or bytes embedded in a
/// parquet row (the <c>datasets</c> Image feature's <c>bytes</c>).
/// </summary>
public sealed class ImageSource
{
    private readonly string? _dataUri;
    private readonly byte[]? _bytes;

    private ImageSource(RecordSource record, string fieldPath, string? path, string? dataUri, byte[]? bytes = null)
    {
        _bytes = bytes;
        Record = record;
        FieldPath = fieldPath;
        FilePath = path;
        _dataUri = dataUri;
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

    internal static ImageSource FromBytes(RecordSource record, string fieldPath, byte[] bytes) => new(record, fieldPath, null, null, bytes);

    /// <summary>Reads and decodes the image (PNG or JPEG) to RGB.</summary>
    /// <exception cref="DatasetRecordException">The file is unreadable or the bytes are not a decodable image.</exception>
    public RgbImage Load()
    {
        byte[] bytes = _bytes ?? (FilePath is null ? DecodeDataUri() : ReadFile(FilePath));
        try
        {
            return ImageDecoder.Decode(bytes, Label);
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
