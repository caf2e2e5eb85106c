namespace VlmTune.Images.Png;

/// <summary>
/// Turns the inflated IDAT bytes into 8-bit RGB: un-filters each row (per Adam7 pass when interlaced), reads samples
/// at any bit depth and converts them. Conversion rules (see <see cref="PngCodec"/> for the Pillow comparison):
/// 16-bit samples keep their high byte; 1/2/4-bit gray scales by 255/(2^d − 1); tRNS colour keys compare full-depth
/// raw samples; alpha (channel, palette tRNS or key) is composited over white by <see cref="WhiteBackground"/>.
/// </summary>
internal static class PngRasterizer
{
    /// <param name="raw">Filtered scanlines exactly as inflated (modified in place).</param>
    public static RgbImage ToRgb(PngContents png, byte[] raw, string source)
    {
        var h = png.Header;
        var rgb = new byte[checked(h.Width * h.Height * 3)];
        var pixel = new PixelConverter(png, source);
        int offset = 0;
        if (!h.Interlaced)
        {
            DecodePass(h, raw, ref offset, h.Width, h.Height, 0, 0, 1, 1, rgb, pixel, source, 0);
        }
        else
        {
            for (int p = 0; p < 7; p++)
            {
                var (pw, ph) = Adam7.PassSize(p, h.Width, h.Height);
                if (pw == 0 || ph == 0) continue;
                DecodePass(h, raw, ref offset, pw, ph, Adam7.StartX[p], Adam7.StartY[p], Adam7.StepX[p], Adam7.StepY[p],
                    rgb, pixel, source, p + 1);
            }
        }
        return new RgbImage(h.Width, h.Height, rgb);
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
        int dy, byte[] rgb, PixelConverter pixel, string source, int pass)
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
            if (dx == 1 && pixel.TryWriteRow(row, rgb.AsSpan(outRow * 3, pw * 3)))
            {
                // 8-bit fast path done
            }
            else
            {
                for (int x = 0; x < pw; x++)
                    pixel.Write(row, x, rgb, (outRow + x0 + x * dx) * 3);
            }
            priorStart = offset + 1;
            offset += 1 + rowBytes;
        }
    }

    /// <summary>Reads pixel x of an unfiltered row and writes its composited RGB.</summary>
    private sealed class PixelConverter
    {
        private readonly int _colorType, _depth, _paletteCount;
        private readonly byte[] _palette = new byte[256 * 3];
        private readonly byte[] _paletteAlpha = new byte[256];
        private readonly int _keyR = -1, _keyG = -1, _keyB = -1;
        private readonly string _source;

        public PixelConverter(PngContents png, string source)
        {
            _colorType = png.Header.ColorType;
            _depth = png.Header.BitDepth;
            _source = source;
            Array.Fill(_paletteAlpha, (byte)255);
            if (png.Palette != null)
            {
                png.Palette.CopyTo(_palette, 0);
                _paletteCount = png.Palette.Length / 3;
            }
            var t = png.Transparency;
            if (t == null) return;
            if (_colorType == 3) t.CopyTo(_paletteAlpha, 0);
            else if (_colorType == 0) _keyR = _keyG = _keyB = t[0] << 8 | t[1];
            else if (_colorType == 2)
            {
                _keyR = t[0] << 8 | t[1];
                _keyG = t[2] << 8 | t[3];
                _keyB = t[4] << 8 | t[5];
            }
        }

        /// <summary>Whole-row conversion for the common 8-bit layouts without a colour key; false otherwise.</summary>
        public bool TryWriteRow(ReadOnlySpan<byte> row, Span<byte> rgb)
        {
            if (_depth != 8 || _keyR >= 0) return false;
            int n = rgb.Length / 3;
            var white = WhiteBackground.Table;
            switch (_colorType)
            {
                case 2:
                    row[..rgb.Length].CopyTo(rgb);
                    return true;
                case 0:
                    for (int x = 0; x < n; x++) rgb[3 * x] = rgb[3 * x + 1] = rgb[3 * x + 2] = row[x];
                    return true;
                case 6:
                    row = row[..(4 * n)];
                    for (int x = 0; x < n; x++)
                    {
                        int a = row[4 * x + 3] << 8;
                        rgb[3 * x] = white[a | row[4 * x]];
                        rgb[3 * x + 1] = white[a | row[4 * x + 1]];
                        rgb[3 * x + 2] = white[a | row[4 * x + 2]];
                    }
                    return true;
                default:
                    return false;
            }
        }

        public void Write(ReadOnlySpan<byte> row, int x, byte[] rgb, int at)
        {
            var white = WhiteBackground.Table;
            switch (_colorType)
            {
                case 0:
                {
                    int v = Sample(row, x);
                    byte g = _keyR == v ? (byte)255 : To8(v);
                    rgb[at] = rgb[at + 1] = rgb[at + 2] = g;
                    return;
                }
                case 2:
                {
                    int r = Sample(row, 3 * x), g = Sample(row, 3 * x + 1), b = Sample(row, 3 * x + 2);
                    if (r == _keyR && g == _keyG && b == _keyB)
                    {
                        rgb[at] = rgb[at + 1] = rgb[at + 2] = 255;
                        return;
                    }
                    rgb[at] = To8(r);
                    rgb[at + 1] = To8(g);
                    rgb[at + 2] = To8(b);
                    return;
                }
                case 3:
                {
                    int i = Sample(row, x);
                    if (i >= _paletteCount)
                        throw new ImageFormatException(_source,
                            $"palette index {i} out of range (the palette has {_paletteCount} entries)");
                    int a = _paletteAlpha[i] << 8;
                    rgb[at] = white[a | _palette[3 * i]];
                    rgb[at + 1] = white[a | _palette[3 * i + 1]];
                    rgb[at + 2] = white[a | _palette[3 * i + 2]];
                    return;
                }
                case 4:
                {
                    byte g = white[To8(Sample(row, 2 * x + 1)) << 8 | To8(Sample(row, 2 * x))];
                    rgb[at] = rgb[at + 1] = rgb[at + 2] = g;
                    return;
                }
                default:
                {
                    int a = To8(Sample(row, 4 * x + 3)) << 8;
                    rgb[at] = white[a | To8(Sample(row, 4 * x))];
                    rgb[at + 1] = white[a | To8(Sample(row, 4 * x + 1))];
                    rgb[at + 2] = white[a | To8(Sample(row, 4 * x + 2))];
                    return;
                }
            }
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
