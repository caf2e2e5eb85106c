using System.Buffers.Binary;

namespace VlmTune.Images.Jpeg;

/// <summary>
/// One JPEG decode: walks the markers (T.81 B.2), runs every scan into coefficient arrays, then IDCT, upsampling
/// and colour conversion. Supports SOF0/SOF1 (sequential Huffman) and SOF2 (progressive Huffman), 8-bit, 1 or 3
/// components. Colour space follows libjpeg's rules: JFIF ⇒ YCbCr; else Adobe transform 0 ⇒ RGB, 1 ⇒ YCbCr; else
/// component ids 'R','G','B' ⇒ RGB; otherwise YCbCr.
/// </summary>
internal sealed class JpegDecoder
{
    private readonly byte[] _data;
    private readonly string _source;
    private readonly DecodeOptions _options;
    private readonly ushort[]?[] _quant = new ushort[4][];
    private readonly HuffmanTable?[] _dcTables = new HuffmanTable[4];
    private readonly HuffmanTable?[] _acTables = new HuffmanTable[4];
    private JpegComponent[]? _components;
    private int _width, _height, _maxH, _maxV, _mcusX, _mcusY, _restartInterval;
    private bool _progressive, _sawJfif, _sawAdobe;
    private int _adobeTransform, _orientation = 1;

    public JpegDecoder(byte[] data, string source, DecodeOptions options)
    {
        _data = data;
        _source = source;
        _options = options;
    }

    public DecodedImage Decode()
    {
        if (_data.Length < 2 || _data[0] != 0xFF || _data[1] != 0xD8)
            throw Error("not a JPEG file (no SOI marker)", 0);
        int pos = 2;
        while (true)
        {
            int markerAt = pos;
            int marker = NextMarker(ref pos);
            if (marker == 0xD9)
                break;
            if (marker is >= 0xD0 and <= 0xD7 or 0x01)
                continue;   // stray RSTn / TEM: no payload (libjpeg skips them too)
            int length = SegmentLength(pos, marker);
            var body = _data.AsSpan(pos + 2, length - 2);
            switch (marker)
            {
                case 0xC0 or 0xC1 or 0xC2:
                    ReadFrame(body, marker == 0xC2, markerAt);
                    break;
                case 0xC3 or 0xC5 or 0xC6 or 0xC7:
                    throw Error($"unsupported JPEG process (SOF{marker - 0xC0}: lossless or hierarchical)", markerAt);
                case 0xC9 or 0xCA or 0xCB or 0xCD or 0xCE or 0xCF or 0xCC:
                    throw Error("arithmetic-coded JPEG is not supported", markerAt);
                case 0xC4:
                    ReadHuffmanTables(body, markerAt);
                    break;
                case 0xDB:
                    ReadQuantTables(body, markerAt);
                    break;
                case 0xDD:
                    if (length != 4) throw Error($"DRI segment has length {length}, expected 4", markerAt);
                    _restartInterval = BinaryPrimitives.ReadUInt16BigEndian(body);
                    break;
                case 0xDA:
                    pos = ReadScan(body, pos + length, markerAt);
                    continue;
                case 0xE0:
                    if (length >= 16 && body[..5].SequenceEqual("JFIF\0"u8)) _sawJfif = true;
                    break;
                case 0xE1:
                    if (body.Length >= 6 && body[..6].SequenceEqual("Exif\0\0"u8) && _orientation == 1)
                        _orientation = ExifOrientation.Read(body[6..]);
                    break;
                case 0xEE:
                    if (length >= 14 && body[..5].SequenceEqual("Adobe"u8))
                    {
                        _sawAdobe = true;
                        _adobeTransform = body[11];
                    }
                    break;
                case 0xDC:
                    throw Error("DNL marker (image height defined after the first scan) is not supported", markerAt);
                default:
                    if (marker is (>= 0xE0 and <= 0xEF) or 0xFE or (>= 0xF0 and <= 0xFD))
                        break;   // other APPn, COM, JPGn: skip
                    throw Error($"unexpected JPEG marker FF{marker:X2}", markerAt);
            }
            pos += length;
        }
        if (_components == null)
            throw Error("JPEG has no frame header (SOF) before EOI", pos - 2);
        foreach (var c in _components)
            if (!c.SeenInScan)
                throw Error($"JPEG component {c.Id} never appears in a scan (truncated progressive file?)", pos - 2);
        var image = JpegPixels.Render(_components, _width, _height, _maxH, _maxV, ColorSpace(), _source);
        return _options.ApplyExifOrientation ? ExifOrientation.Apply(image, _orientation) : image;
    }

    private JpegColorSpace ColorSpace()
    {
        if (_components!.Length == 1) return JpegColorSpace.Gray;
        if (_sawJfif) return JpegColorSpace.YCbCr;
        if (_sawAdobe) return _adobeTransform == 0 ? JpegColorSpace.Rgb : JpegColorSpace.YCbCr;
        var c = _components;
        return c[0].Id == 'R' && c[1].Id == 'G' && c[2].Id == 'B' ? JpegColorSpace.Rgb : JpegColorSpace.YCbCr;
    }

    /// <summary>Reads the next marker code at pos (skipping 0xFF fill bytes); pos ends just after the code.</summary>
    private int NextMarker(ref int pos)
    {
        if (pos >= _data.Length)
            throw Error("truncated JPEG: no EOI marker", pos);
        if (_data[pos] != 0xFF)
            throw Error($"expected a JPEG marker, found byte {_data[pos]:X2}", pos);
        while (pos < _data.Length && _data[pos] == 0xFF) pos++;
        if (pos >= _data.Length)
            throw Error("truncated JPEG: no EOI marker", pos);
        return _data[pos++];
    }

    private int SegmentLength(int pos, int marker)
    {
        if (pos + 2 > _data.Length)
            throw Error($"truncated JPEG: segment FF{marker:X2} has no length", pos);
        int length = _data[pos] << 8 | _data[pos + 1];
        if (length < 2 || pos + length > _data.Length)
            throw Error($"truncated JPEG: segment FF{marker:X2} declares {length} bytes, {_data.Length - pos} remain", pos);
        return length;
    }

    private void ReadFrame(ReadOnlySpan<byte> b, bool progressive, int at)
    {
        if (_components != null) throw Error("second frame header (SOF)", at);
        if (b.Length < 6) throw Error("SOF segment too short", at);
        if (b[0] != 8) throw Error($"{b[0]}-bit JPEG is not supported (only 8-bit samples)", at);
        _height = b[1] << 8 | b[2];
        _width = b[3] << 8 | b[4];
        int n = b[5];
        if (_height == 0) throw Error("JPEG height 0 (defined by a DNL marker) is not supported", at);
        if (_width == 0) throw Error("JPEG width is 0", at);
        if (n == 4) throw Error("CMYK JPEG is not supported", at);
        if (n != 1 && n != 3) throw Error($"JPEG with {n} components is not supported", at);
        if (b.Length < 6 + 3 * n) throw Error("SOF segment too short for its components", at);
        ImageDecoder.CheckPixelLimit(_width, _height, _source, _options);
        var comps = new JpegComponent[n];
        for (int i = 0; i < n; i++)
        {
            int id = b[6 + 3 * i], hv = b[7 + 3 * i], tq = b[8 + 3 * i];
            int h = hv >> 4, v = hv & 15;
            if (h is < 1 or > 4 || v is < 1 or > 4) throw Error($"component {id} has sampling factors {h}x{v}", at);
            if (tq > 3) throw Error($"component {id} uses quantization table {tq}", at);
            comps[i] = new JpegComponent { Id = id, H = h, V = v, QuantTableId = tq };
        }
        _maxH = comps.Max(c => c.H);
        _maxV = comps.Max(c => c.V);
        _mcusX = (_width + 8 * _maxH - 1) / (8 * _maxH);
        _mcusY = (_height + 8 * _maxV - 1) / (8 * _maxV);
        foreach (var c in comps)
        {
            c.Width = (int)(((long)_width * c.H + _maxH - 1) / _maxH);
            c.Height = (int)(((long)_height * c.V + _maxV - 1) / _maxV);
            c.BlocksWide = (c.Width + 7) / 8;
            c.BlocksHigh = (c.Height + 7) / 8;
            c.BlocksPerLine = _mcusX * c.H;
            c.BlocksPerColumn = _mcusY * c.V;
            c.Coefficients = new short[checked(c.BlocksPerLine * c.BlocksPerColumn * 64)];
        }
        _components = comps;
        _progressive = progressive;
    }

    private void ReadHuffmanTables(ReadOnlySpan<byte> b, int at)
    {
        while (!b.IsEmpty)
        {
            if (b.Length < 17) throw Error("DHT segment too short", at);
            int tc = b[0] >> 4, th = b[0] & 15;
            if (tc > 1 || th > 3) throw Error($"DHT has invalid class/id byte {b[0]:X2}", at);
            int total = 0;
            for (int i = 1; i <= 16; i++) total += b[i];
            if (total > 256 || b.Length < 17 + total) throw Error("DHT segment too short for its code counts", at);
            HuffmanTable table;
            try
            {
                table = new HuffmanTable(b.Slice(1, 16), b.Slice(17, total));
            }
            catch (ArgumentException e)
            {
                throw Error($"invalid Huffman table: {e.Message}", at);
            }
            (tc == 0 ? _dcTables : _acTables)[th] = table;
            b = b[(17 + total)..];
        }
    }

    private void ReadQuantTables(ReadOnlySpan<byte> b, int at)
    {
        var zz = JpegScanDecoder.ZigZag;
        while (!b.IsEmpty)
        {
            int pq = b[0] >> 4, tq = b[0] & 15;
            if (pq > 1 || tq > 3) throw Error($"DQT has invalid precision/id byte {b[0]:X2}", at);
            int size = pq == 0 ? 64 : 128;
            if (b.Length < 1 + size) throw Error("DQT segment too short", at);
            var table = new ushort[64];
            for (int k = 0; k < 64; k++)
                table[zz[k]] = pq == 0 ? b[1 + k] : (ushort)(b[1 + 2 * k] << 8 | b[2 + 2 * k]);
            _quant[tq] = table;
            b = b[(1 + size)..];
        }
    }

    /// <summary>Parses SOS and decodes the scan; returns the position of the marker after the scan data.</summary>
    private int ReadScan(ReadOnlySpan<byte> b, int dataStart, int at)
    {
        if (_components == null) throw Error("scan (SOS) before the frame header (SOF)", at);
        if (b.Length < 1) throw Error("SOS segment too short", at);
        int n = b[0];
        if (n < 1 || n > 4 || b.Length != 4 + 2 * n) throw Error($"SOS segment invalid for {n} components", at);
        var comps = new JpegComponent[n];
        int blocksPerMcu = 0;
        for (int i = 0; i < n; i++)
        {
            int id = b[1 + 2 * i], tables = b[2 + 2 * i];
            var c = Array.Find(_components, x => x.Id == id) ?? throw Error($"scan refers to unknown component {id}", at);
            if (Array.IndexOf(comps, c) >= 0) throw Error($"scan lists component {id} twice", at);
            if ((tables >> 4) > 3 || (tables & 15) > 3) throw Error($"scan uses Huffman table ids {tables:X2}", at);
            c.DcTable = _dcTables[tables >> 4];
            c.AcTable = _acTables[tables & 15];
            c.Quant ??= _quant[c.QuantTableId] ?? throw Error($"component {id} uses undefined quantization table {c.QuantTableId}", at);
            c.SeenInScan = true;
            comps[i] = c;
            blocksPerMcu += c.H * c.V;
        }
        if (n > 1 && blocksPerMcu > 10) throw Error($"scan MCU has {blocksPerMcu} blocks (more than 10)", at);
        int ss = b[1 + 2 * n], se = b[2 + 2 * n], ah = b[3 + 2 * n] >> 4, al = b[3 + 2 * n] & 15;
        var scan = new JpegScan(comps, ss, se, ah, al);
        ValidateScan(scan, at);
        int end = new JpegScanDecoder(scan, _progressive, _source)
            .Decode(_data, dataStart, _mcusX, _mcusY, _restartInterval);
        // Skip anything up to the next marker (libjpeg warns about extraneous bytes and continues).
        while (end + 1 < _data.Length && !(_data[end] == 0xFF && _data[end + 1] != 0 && _data[end + 1] != 0xFF))
            end++;
        return end;
    }

    private void ValidateScan(JpegScan s, int at)
    {
        bool needDc, needAc;
        if (!_progressive)
        {
            if (s.Ss != 0 || s.Se != 63 || s.Ah != 0 || s.Al != 0)
                throw Error($"invalid sequential scan parameters Ss={s.Ss} Se={s.Se} Ah={s.Ah} Al={s.Al}", at);
            needDc = needAc = true;
        }
        else
        {
            bool bad = s.Ss == 0 ? s.Se != 0 : s.Se < s.Ss || s.Se > 63 || s.Components.Length != 1;
            if (bad || s.Al > 13 || (s.Ah != 0 && s.Al != s.Ah - 1))
                throw Error($"invalid progressive scan parameters Ss={s.Ss} Se={s.Se} Ah={s.Ah} Al={s.Al}", at);
            needDc = s.Ss == 0 && s.Ah == 0;
            needAc = s.Ss != 0;
        }
        foreach (var c in s.Components)
        {
            if (needDc && c.DcTable == null) throw Error($"scan uses an undefined DC Huffman table (component {c.Id})", at);
            if (needAc && c.AcTable == null) throw Error($"scan uses an undefined AC Huffman table (component {c.Id})", at);
        }
    }

    private ImageFormatException Error(string problem, long offset) => new(_source, problem, offset);
}
