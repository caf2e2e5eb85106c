namespace VlmTune.Images.Png;

/// <summary>
/// Turns the inflated IDAT bytes into the samples of the image's Pillow mode: un-filters each row (per Adam7 pass
/// when interlaced) and reads samples at any bit depth. Modes, as Pillow 9.4's PngImagePlugin opens them: gray 1-bit →
/// <see cref="ImageMode.Bilevel"/> (0/255), gray 2/4/8-bit → <see cref="ImageMode.Gray"/> (scaled by 255/(2^d − 1)),
/// gray 16-bit → <see cref="ImageMode.Gray16"/> (raw), RGB → <see cref="ImageMode.Rgb"/>, palette →
/// <see cref="ImageMode.Palette"/> (indices), gray+alpha → <see cref="ImageMode.GrayAlpha"/>, RGBA →
/// <see cref="ImageMode.Rgba"/>; other 16-bit samples keep their high byte. tRNS is checked (see
/// <see cref="PngChunkReader"/>) but not applied: no transformers version lets it reach the pixels.
/// </summary>
internal static class PngRasterizer
{
    /// <param name="raw">Filtered scanlines exactly as inflated (modified in place).</param>
    public static DecodedImage ToImage(PngContents png, byte[] raw, string source)
    {
        var h = png.Header;
        var pixel = new PixelConverter(png, source);
        var samples = new byte[checked(h.Width * h.Height * DecodedImage.BytesPer(pixel.Mode))];
        int offset = 0;
        if (!h.Interlaced)
        {
            DecodePass(h, raw, ref offset, h.Width, h.Height, 0, 0, 1, 1, samples, pixel, source, 0);
        }
        else
        {
            for (int p = 0; p < 7; p++)
            {
                var (pw, ph) = Adam7.PassSize(p, h.Width, h.Height);
                if (pw == 0 || ph == 0) continue;
                DecodePass(h, raw, ref offset, pw, ph, Adam7.StartX[p], Adam7.StartY[p], Adam7.StepX[p], Adam7.StepY[p],
                    samples, pixel, source, p + 1);
            }
        }
        return new DecodedImage(h.Width, h.Height, pixel.Mode, samples, pixel.Mode == ImageMode.Palette ? png.Palette : null);
    }

    /// <summary>Total inflated size: per pass, rows × (1 filter byte + row bytes).</summary>
    public static long ExpectedRawLength(PngHeader h)
    {
        if (!h.Interlaced) return h.Height * (1 + h.RowBytes(h.Width));
        long total = 0;
        for (int p = 0; p < 7; p++)
        {
            var (pw, ph) = Adam7.PassSize(p, h.Width, h.Height);
            if (pw > 0 && ph > 0) total += ph * (1 + h.RowBytes(pw));
        }
        return total;
    }

    private static void DecodePass(PngHeader h, byte[] raw, ref int offset, int pw, int ph, int x0, int y0, int dx,
        int dy, byte[] samples, PixelConverter pixel, string source, int pass)
    {
        int rowBytes = (int)h.RowBytes(pw);
        int bpp = h.FilterStride;
        int priorStart = -1;
        for (int y = 0; y < ph; y++)
        {
            int filter = raw[offset];
            var row = raw.AsSpan(offset + 1, rowBytes);
            ReadOnlySpan<byte> prior = priorStart < 0 ? default : raw.AsSpan(priorStart, rowBytes);
            if (!PngFilters.Unfilter(filter, row, prior, bpp))
                throw new ImageFormatException(source,
                    $"invalid filter type {filter} in row {y}" + (pass > 0 ? $" of Adam7 pass {pass}" : "") +
                    " (decompressed image data)");
            int outRow = (y0 + y * dy) * h.Width;
            int outBpp = pixel.BytesPerPixel;
            if (dx == 1 && pixel.TryWriteRow(row, samples.AsSpan(outRow * outBpp, pw * outBpp)))
            {
                // 8-bit fast path done
            }
            else
            {
                for (int x = 0; x < pw; x++)
                    pixel.Write(row, x, samples, (outRow + x0 + x * dx) * outBpp);
            }
            priorStart = offset + 1;
            offset += 1 + rowBytes;
        }
    }

    /// <summary>Reads pixel x of an unfiltered row and writes its samples in the image's mode.</summary>
    private sealed class PixelConverter
    {
        private readonly int _colorType, _depth, _paletteCount;
        private readonly string _source;

        public PixelConverter(PngContents png, string source)
        {
            _colorType = png.Header.ColorType;
            _depth = png.Header.BitDepth;
            _source = source;
            _paletteCount = png.Palette is null ? 0 : png.Palette.Length / 3;
            Mode = png.Header.Mode;
            BytesPerPixel = DecodedImage.BytesPer(Mode);
        }

        public ImageMode Mode { get; }
        public int BytesPerPixel { get; }

        /// <summary>Whole-row copy for 8-bit samples (palette indices checked); false otherwise.</summary>
        public bool TryWriteRow(ReadOnlySpan<byte> row, Span<byte> output)
        {
            if (_depth != 8) return false;
            row = row[..output.Length];
            if (_colorType == 3)
            {
                for (int x = 0; x < row.Length; x++) CheckIndex(row[x]);
            }
            row.CopyTo(output);
            return true;
        }

        public void Write(ReadOnlySpan<byte> row, int x, byte[] output, int at)
        {
            switch (_colorType)
            {
                case 0 when _depth == 16:
                    output[at] = row[2 * x];
                    output[at + 1] = row[2 * x + 1];
                    return;
                case 3:
                {
                    int i = Sample(row, x);
                    CheckIndex(i);
                    output[at] = (byte)i;
                    return;
                }
                default:
                {
                    int channels = BytesPerPixel;
                    for (int c = 0; c < channels; c++) output[at + c] = To8(Sample(row, channels * x + c));
                    return;
                }
            }
        }

        private void CheckIndex(int i)
        {
            if (i >= _paletteCount)
                throw new ImageFormatException(_source,
                    $"palette index {i} out of range (the palette has {_paletteCount} entries)");
        }

        /// <summary>Raw sample number <paramref name="i"/> of the row at the image's bit depth.</summary>
        private int Sample(ReadOnlySpan<byte> row, int i)
        {
            switch (_depth)
            {
                case 8: return row[i];
                case 16: return row[2 * i] << 8 | row[2 * i + 1];
                default:
                    int bit = i * _depth;
                    return (row[bit >> 3] >> (8 - _depth - (bit & 7))) & ((1 << _depth) - 1);
            }
        }

        private byte To8(int v) => _depth switch
        {
            8 => (byte)v,
            16 => (byte)(v >> 8),
            4 => (byte)(v * 17),
            2 => (byte)(v * 85),
            _ => (byte)(v * 255),
        };
    }
}
