namespace VlmTune.Images.Jpeg;

/// <summary>
/// Bit reader over entropy-coded JPEG data: removes 0xFF00 stuffing and stops at the next marker. Past a marker it
/// supplies zero bits only as look-ahead: consuming any of them means the segment ended before the data it
/// promised (truncated or corrupt), which is an error here (libjpeg warns and pads with zeros).
/// </summary>
internal struct EntropyReader
{
    private readonly byte[] _data;
    private readonly string _source;
    private ulong _bits;        // next bits, MSB first
    private int _count;         // valid bits in _bits (real + padding)
    private int _padding;       // zero bits appended after a marker or the end of the data (the lowest ones)
    private bool _atMarker;

    public int Position { get; private set; }

    public EntropyReader(byte[] data, int position, string source)
    {
        _data = data;
        _source = source;
        Position = position;
    }

    /// <summary>Throws away buffered bits (end of scan or restart interval); Position is then at a marker or junk.</summary>
    public void Reset()
    {
        _bits = 0;
        _count = 0;
        _padding = 0;
        _atMarker = false;
    }

    private void Fill()
    {
        while (_count <= 56)
        {
            int b = 0;
            if (_atMarker || Position >= _data.Length)
            {
                _atMarker = true;
                _padding += 8;
            }
            else
            {
                b = _data[Position];
                if (b == 0xFF)
                {
                    int next = Position + 1 < _data.Length ? _data[Position + 1] : -1;
                    if (next == 0)
                    {
                        Position += 2;
                    }
                    else
                    {
                        _atMarker = true;
                        _padding += 8;
                        b = 0;
                    }
                }
                else
                {
                    Position++;
                }
            }
            _bits |= (ulong)b << (56 - _count);
            _count += 8;
        }
    }

    private void Consume(int n)
    {
        if (n > _count - _padding)
            throw new ImageFormatException(_source,
                "JPEG entropy-coded data ends early (truncated file or corrupt data before the next marker)", Position);
        _bits <<= n;
        _count -= n;
    }

    /// <summary>Reads <paramref name="n"/> (0..16) raw bits.</summary>
    public int ReadBits(int n)
    {
        if (n == 0) return 0;
        if (_count < n) Fill();
        int v = (int)(_bits >> (64 - n));
        Consume(n);
        return v;
    }

    public int ReadBit() => ReadBits(1);

    /// <summary>Reads n bits and sign-extends them as T.81's EXTEND procedure (F.2.2.1).</summary>
    public int ReceiveExtend(int n)
    {
        if (n == 0) return 0;
        if (n > 16)
            throw new ImageFormatException(_source, $"corrupt JPEG data: coefficient size {n} bits", Position);
        int v = ReadBits(n);
        return v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
    }

    public int DecodeHuffman(HuffmanTable table)
    {
        if (_count < 16) Fill();
        int entry = table.Fast[(int)(_bits >> (64 - HuffmanTable.LookupBits))];
        if (entry != 0)
        {
            Consume(entry >> 8);
            return entry & 0xFF;
        }
        int code16 = (int)(_bits >> 48);
        for (int len = HuffmanTable.LookupBits + 1; len <= 16; len++)
        {
            int code = code16 >> (16 - len);
            if (code <= table.MaxCode[len])
            {
                Consume(len);
                int index = table.ValueOffset[len] + code;
                if ((uint)index >= (uint)table.Values.Length)
                    break;
                return table.Values[index];
            }
        }
        throw new ImageFormatException(_source, "corrupt JPEG data: invalid Huffman code", Position);
    }
}
