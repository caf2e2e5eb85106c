namespace VlmTune.Images.Png;

/// <summary>What the chunk walk collects from a PNG file.</summary>
internal sealed class PngContents
{
    public required PngHeader Header { get; init; }

    /// <summary>PLTE entries as R,G,B triples (null when absent).</summary>
    public byte[]? Palette { get; set; }

    /// <summary>Raw tRNS payload (null when absent).</summary>
    public byte[]? Transparency { get; set; }

    /// <summary>Concatenated IDAT payloads: one zlib stream.</summary>
    public required MemoryStream ImageData { get; init; }

    /// <summary>Byte offset of the first IDAT chunk (for messages).</summary>
    public long FirstIdatOffset { get; set; } = -1;

    /// <summary>eXIf payload (TIFF structure), null when absent.</summary>
    public byte[]? Exif { get; set; }
}
