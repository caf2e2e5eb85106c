namespace VlmTune.Images.Jpeg;

/// <summary>
/// Decodes the entropy-coded segment of one scan into the components' coefficient arrays: sequential Huffman
/// (T.81 F.2.2) and progressive Huffman (G.1.2: DC first/refine, AC first/refine with EOB runs), with restart
/// intervals. Interleaved scans walk MCUs of H×V blocks per component; single-component scans walk the
/// component's real blocks one at a time, as T.81 A.2 specifies.
/// </summary>
internal sealed class JpegScanDecoder
{
    /// <summary>Zig-zag index → natural (row-major) index.</summary>
    public static ReadOnlySpan<byte> ZigZag =>
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
        28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
        54, 47, 55, 62, 63,
    ];

    private readonly JpegScan _scan;
    private readonly bool _progressive;
    private readonly string _source;
    private int _eobRun;

    public JpegScanDecoder(JpegScan scan, bool progressive, string source)
    {
        _scan = scan;
        _progressive = progressive;
        _source = source;
    }

    /// <summary>Decodes the scan starting at <paramref name="position"/>; returns the position after its data.</summary>
    public int Decode(byte[] data, int position, int mcusX, int mcusY, int restartInterval)
    {
        var reader = new EntropyReader(data, position, _source);
        var comps = _scan.Components;
        bool single = comps.Length == 1;
        int columns = single ? comps[0].BlocksWide : mcusX;
        int rows = single ? comps[0].BlocksHigh : mcusY;
        long total = (long)columns * rows;
        int nextRst = 0;
        ResetState();
        for (long mcu = 0; mcu < total; mcu++)
        {
            if (restartInterval > 0 && mcu > 0 && mcu % restartInterval == 0)
            {
                reader.Reset();
                int at = reader.Position;
                if (at + 1 >= data.Length || data[at] != 0xFF || data[at + 1] != 0xD0 + nextRst)
                    throw new ImageFormatException(_source,
                        $"expected restart marker RST{nextRst} after {mcu} MCUs, found " +
                        (at + 1 < data.Length ? $"bytes {data[at]:X2} {data[at + 1]:X2}" : "end of data"), at);
                reader = new EntropyReader(data, at + 2, _source);
                nextRst = (nextRst + 1) & 7;
                ResetState();
            }
            int my = (int)(mcu / columns), mx = (int)(mcu % columns);
            if (single)
            {
                DecodeBlock(ref reader, comps[0], my, mx);
                continue;
            }
            foreach (var c in comps)
                for (int v = 0; v < c.V; v++)
                    for (int h = 0; h < c.H; h++)
                        DecodeBlock(ref reader, c, my * c.V + v, mx * c.H + h);
        }
        reader.Reset();
        return reader.Position;
    }

    private void ResetState()
    {
        _eobRun = 0;
        foreach (var c in _scan.Components) c.DcPredictor = 0;
    }

    private void DecodeBlock(ref EntropyReader r, JpegComponent c, int blockRow, int blockCol)
    {
        var block = c.Coefficients.AsSpan((blockRow * c.BlocksPerLine + blockCol) * 64, 64);
        if (!_progressive)
        {
            DecodeSequential(ref r, c, block);
        }
        else if (_scan.Ss == 0)
        {
            if (_scan.Ah == 0) DecodeDcFirst(ref r, c, block);
            else if (r.ReadBit() != 0) block[0] |= (short)(1 << _scan.Al);
        }
        else if (_scan.Ah == 0)
        {
            DecodeAcFirst(ref r, c, block);
        }
        else
        {
            DecodeAcRefine(ref r, c, block);
        }
    }

    private void DecodeSequential(ref EntropyReader r, JpegComponent c, Span<short> block)
    {
        int t = r.DecodeHuffman(c.DcTable!);
        c.DcPredictor += r.ReceiveExtend(t);
        block[0] = (short)c.DcPredictor;
        var zz = ZigZag;
        for (int k = 1; k < 64; k++)
        {
            int rs = r.DecodeHuffman(c.AcTable!);
            int run = rs >> 4, s = rs & 15;
            if (s == 0)
            {
                if (run != 15) break;   // EOB
                k += 15;                // ZRL: 16 zeros (the loop adds the 16th)
                continue;
            }
            k += run;
            if (k > 63) throw Corrupt(r, "AC coefficient index past 63");
            block[zz[k]] = (short)r.ReceiveExtend(s);
        }
    }

    private void DecodeDcFirst(ref EntropyReader r, JpegComponent c, Span<short> block)
    {
        int t = r.DecodeHuffman(c.DcTable!);
        c.DcPredictor += r.ReceiveExtend(t);
        block[0] = (short)(c.DcPredictor << _scan.Al);
    }

    private void DecodeAcFirst(ref EntropyReader r, JpegComponent c, Span<short> block)
    {
        if (_eobRun > 0)
        {
            _eobRun--;
            return;
        }
        var zz = ZigZag;
        for (int k = _scan.Ss; k <= _scan.Se; k++)
        {
            int rs = r.DecodeHuffman(c.AcTable!);
            int run = rs >> 4, s = rs & 15;
            if (s == 0)
            {
                if (run == 15)
                {
                    k += 15;
                    continue;
                }
                _eobRun = (1 << run) - 1;
                if (run > 0) _eobRun += r.ReadBits(run);
                break;
            }
            k += run;
            if (k > 63) throw Corrupt(r, "AC coefficient index past 63");
            block[zz[k]] = (short)(r.ReceiveExtend(s) * (1 << _scan.Al));
        }
    }

    private void DecodeAcRefine(ref EntropyReader r, JpegComponent c, Span<short> block)
    {
        int p1 = 1 << _scan.Al, m1 = -1 << _scan.Al;
        int k = _scan.Ss, se = _scan.Se;
        var zz = ZigZag;
        if (_eobRun == 0)
        {
            for (; k <= se; k++)
            {
                int rs = r.DecodeHuffman(c.AcTable!);
                int run = rs >> 4, s = rs & 15;
                int value = 0;
                if (s != 0)
                {
                    if (s != 1) throw Corrupt(r, $"AC refinement coefficient of size {s} (must be 1)");
                    value = r.ReadBit() != 0 ? p1 : m1;
                }
                else if (run != 15)
                {
                    _eobRun = 1 << run;
                    if (run > 0) _eobRun += r.ReadBits(run);
                    break;
                }
                // Skip `run` zero-history coefficients, refining the non-zero ones passed on the way.
                while (k <= se)
                {
                    ref short coef = ref block[zz[k]];
                    if (coef != 0)
                    {
                        Refine(ref r, ref coef, p1, m1);
                    }
                    else
                    {
                        if (run == 0) break;
                        run--;
                    }
                    k++;
                }
                if (value != 0)
                {
                    if (k > se) throw Corrupt(r, "AC refinement past the end of the spectral band");
                    block[zz[k]] = (short)value;
                }
            }
        }
        if (_eobRun > 0)
        {
            for (; k <= se; k++)
            {
                ref short coef = ref block[zz[k]];
                if (coef != 0) Refine(ref r, ref coef, p1, m1);
            }
            _eobRun--;
        }
    }

    private static void Refine(ref EntropyReader r, ref short coef, int p1, int m1)
    {
        if (r.ReadBit() != 0 && (coef & p1) == 0)
            coef = (short)(coef >= 0 ? coef + p1 : coef + m1);
    }

    private ImageFormatException Corrupt(EntropyReader r, string what) =>
        new(_source, $"corrupt JPEG data: {what}", r.Position);
}
