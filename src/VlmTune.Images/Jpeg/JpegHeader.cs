namespace VlmTune.Images.Jpeg;

/// <summary>
/// Walks a JPEG's marker segments up to the first scan (SOS) for the frame size and the EXIF orientation, with the
/// checks <see cref="JpegDecoder"/> makes on the same segments (8-bit samples, Huffman-coded baseline or progressive).
/// </summary>
internal static class JpegHeader
{
    /// <returns>Size, EXIF orientation and number of frame components (1 = gray).</returns>
    public static (int Width, int Height, int Orientation, int Components) Read(ReadOnlySpan<byte> data, string source)
    {
        int pos = 2, width = 0, height = 0, orientation = 1, components = 0;
        while (true)
        {
            if (pos >= data.Length || data[pos] != 0xFF)
                throw new ImageFormatException(source, pos >= data.Length ? "truncated JPEG: no frame header" : $"expected a JPEG marker, found byte {data[pos]:X2}", pos);
            int at = pos;
            while (pos < data.Length && data[pos] == 0xFF) pos++;
            if (pos >= data.Length) throw new ImageFormatException(source, "truncated JPEG: no frame header", pos);
            int marker = data[pos++];
            if (marker is >= 0xD0 and <= 0xD7 or 0x01) continue;
            if (marker is 0xD9 or 0xDA)
            {
                if (width == 0) throw new ImageFormatException(source, "JPEG has no frame header (SOF) before its first scan", at);
                return (width, height, orientation, components);
            }
            if (pos + 2 > data.Length) throw new ImageFormatException(source, $"truncated JPEG: segment FF{marker:X2} has no length", pos);
            int length = data[pos] << 8 | data[pos + 1];
            if (length < 2 || pos + length > data.Length)
                throw new ImageFormatException(source, $"truncated JPEG: segment FF{marker:X2} declares {length} bytes, {data.Length - pos} remain", pos);
            var body = data.Slice(pos + 2, length - 2);
            switch (marker)
            {
                case 0xC0 or 0xC1 or 0xC2:
                    if (width != 0) throw new ImageFormatException(source, "second frame header (SOF)", at);
                    if (body.Length < 6) throw new ImageFormatException(source, "SOF segment too short", at);
                    if (body[0] != 8) throw new ImageFormatException(source, $"{body[0]}-bit JPEG is not supported (only 8-bit samples)", at);
                    height = body[1] << 8 | body[2];
                    width = body[3] << 8 | body[4];
                    components = body[5];
                    if (height == 0) throw new ImageFormatException(source, "JPEG height 0 (defined by a DNL marker) is not supported", at);
                    if (width == 0) throw new ImageFormatException(source, "JPEG width 0", at);
                    break;
                case 0xC3 or 0xC5 or 0xC6 or 0xC7:
                    throw new ImageFormatException(source, $"unsupported JPEG process (SOF{marker - 0xC0}: lossless or hierarchical)", at);
                case 0xC9 or 0xCA or 0xCB or 0xCD or 0xCE or 0xCF or 0xCC:
                    throw new ImageFormatException(source, "arithmetic-coded JPEG is not supported", at);
                case 0xE1:
                    if (body.Length >= 6 && body[..6].SequenceEqual("Exif\0\0"u8) && orientation == 1)
                        orientation = ExifOrientation.Read(body[6..]);
                    break;
            }
            pos += length;
        }
    }
}
