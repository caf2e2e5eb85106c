namespace VlmTune.Images;

/// <summary>
/// Thrown for any image that cannot be decoded: unsupported format or feature, corrupt or truncated data,
/// a failed checksum, or an image larger than <see cref="DecodeOptions.MaxPixels"/>. The message always names
/// the source and, where one is known, the byte offset at which the problem was found.
/// </summary>
public sealed class ImageFormatException : Exception
{
    /// <summary>The file name or label passed to the decoder.</summary>
    public string SourceName { get; }

    /// <summary>Byte offset in the encoded data where the problem was detected, or -1 when not tied to one.</summary>
    public long Offset { get; }

    public ImageFormatException(string sourceName, string problem, long offset = -1, Exception? inner = null)
        : base(Format(sourceName, problem, offset), inner)
    {
        SourceName = sourceName;
        Offset = offset;
    }

    private static string Format(string sourceName, string problem, long offset) =>
        offset >= 0 ? $"{sourceName}: {problem} (at byte offset {offset})" : $"{sourceName}: {problem}";
}
