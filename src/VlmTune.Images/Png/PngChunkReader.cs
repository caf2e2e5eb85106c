using System.Buffers.Binary;
using System.Text;

namespace VlmTune.Images.Png;

/// <summary>
/// Walks the chunk list of a PNG file: verifies every CRC, validates IHDR, collects PLTE, tRNS, eXIf and the IDAT
/// stream, and stops at IEND. Unknown ancillary chunks are skipped; unknown critical chunks are an error.
/// </summary>
internal static class PngChunkReader
{
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static PngContents Read(ReadOnlySpan<byte> data, string source)
    {
        if (data.Length < 8 || !data[..8].SequenceEqual(Signature))
            throw new ImageFormatException(source, "not a PNG file (bad signature)", 0);
        PngContents? contents = null;
        int pos = 8;
        bool sawIdat = false, idatEnded = false;
        while (true)
        {
            if (pos + 12 > data.Length)
                throw new ImageFormatException(source,
                    contents == null ? "truncated PNG: no IHDR chunk" : "truncated PNG: file ends before the IEND chunk", pos);
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            if (length > int.MaxValue || pos + 12L + length > data.Length)
                throw new ImageFormatException(source,
                    $"truncated PNG: chunk '{TypeName(data.Slice(pos + 4, 4))}' declares {length} bytes but only " +
                    $"{Math.Max(0, data.Length - pos - 12)} remain", pos);
            var typeBytes = data.Slice(pos + 4, 4);
            string type = TypeName(typeBytes);
            var body = data.Slice(pos + 8, (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
            uint actual = Crc32.Compute(data.Slice(pos + 4, 4 + (int)length));
            if (stored != actual)
                throw new ImageFormatException(source,
                    $"CRC mismatch in chunk '{type}' (stored {stored:X8}, computed {actual:X8})", pos);

            if (contents == null)
            {
                if (type != "IHDR")
                    throw new ImageFormatException(source, $"first chunk is '{type}', expected IHDR", pos);
                contents = new PngContents { Header = ParseHeader(body, source, pos), ImageData = new MemoryStream() };
            }
            else if (type == "IDAT")
            {
                if (idatEnded)
                    throw new ImageFormatException(source, "IDAT chunks are not consecutive", pos);
                if (contents.Header.ColorType == 3 && contents.Palette == null)
                    throw new ImageFormatException(source, "palette image has no PLTE chunk before IDAT", pos);
                if (!sawIdat) contents.FirstIdatOffset = pos;
                sawIdat = true;
                contents.ImageData.Write(body);
            }
            else
            {
                if (sawIdat) idatEnded = true;
                switch (type)
                {
                    case "IHDR":
                        throw new ImageFormatException(source, "second IHDR chunk", pos);
                    case "PLTE":
                        if (length == 0 || length % 3 != 0 || length > 768)
                            throw new ImageFormatException(source, $"PLTE chunk has invalid length {length}", pos);
                        contents.Palette = body.ToArray();
                        break;
                    case "tRNS":
                        contents.Transparency = ValidateTransparency(contents, body, source, pos);
                        break;
                    case "eXIf":
                        contents.Exif = body.ToArray();
                        break;
                    case "IEND":
                        if (!sawIdat)
                            throw new ImageFormatException(source, "PNG has no IDAT chunk", pos);
                        return contents;
                    default:
                        if ((typeBytes[0] & 0x20) == 0)
                            throw new ImageFormatException(source, $"unknown critical chunk '{type}'", pos);
                        break;   // ancillary: gAMA, cHRM, iCCP, tEXt, ... are ignored (as Pillow ignores gAMA)
                }
            }
            pos += 12 + (int)length;
        }
    }

    private static PngHeader ParseHeader(ReadOnlySpan<byte> b, string source, int pos)
    {
        if (b.Length != 13)
            throw new ImageFormatException(source, $"IHDR chunk has length {b.Length}, expected 13", pos);
        uint w = BinaryPrimitives.ReadUInt32BigEndian(b), h = BinaryPrimitives.ReadUInt32BigEndian(b[4..]);
        int depth = b[8], colorType = b[9];
        if (w == 0 || h == 0 || w > int.MaxValue || h > int.MaxValue)
            throw new ImageFormatException(source, $"IHDR has invalid size {w}x{h}", pos);
        if (!PngHeader.IsValidCombination(colorType, depth))
            throw new ImageFormatException(source, $"IHDR has invalid colour type {colorType} with bit depth {depth}", pos);
        if (b[10] != 0 || b[11] != 0)
            throw new ImageFormatException(source, $"IHDR has unknown compression {b[10]} or filter method {b[11]}", pos);
        if (b[12] > 1)
            throw new ImageFormatException(source, $"IHDR has unknown interlace method {b[12]}", pos);
        return new PngHeader((int)w, (int)h, depth, colorType, b[12] == 1);
    }

    private static byte[]? ValidateTransparency(PngContents c, ReadOnlySpan<byte> body, string source, int pos)
    {
        switch (c.Header.ColorType)
        {
            case 0 when body.Length == 2:
            case 2 when body.Length == 6:
                return body.ToArray();
            case 3:
                if (c.Palette == null)
                    throw new ImageFormatException(source, "tRNS chunk before PLTE", pos);
                if (body.Length > c.Palette.Length / 3)
                    throw new ImageFormatException(source,
                        $"tRNS has {body.Length} entries but the palette has {c.Palette.Length / 3}", pos);
                return body.ToArray();
            case 4 or 6:
                return null;   // not allowed with an alpha channel; libpng ignores it, so do we
            default:
                throw new ImageFormatException(source,
                    $"tRNS chunk has length {body.Length}, invalid for colour type {c.Header.ColorType}", pos);
        }
    }

    private static string TypeName(ReadOnlySpan<byte> type)
    {
        var sb = new StringBuilder(4);
        foreach (byte b in type)
            sb.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        return sb.ToString();
    }
}
