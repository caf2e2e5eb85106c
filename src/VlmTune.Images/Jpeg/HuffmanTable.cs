namespace VlmTune.Images.Jpeg;

/// <summary>
/// A canonical JPEG Huffman table (ITU T.81 Annex C). Codes of up to <see cref="LookupBits"/> bits are resolved
/// by one table look-up (<see cref="Fast"/>: (length &lt;&lt; 8) | symbol, 0 = longer code); longer ones by the
/// per-length MaxCode / ValueOffset search of Annex F.2.2.3.
/// </summary>
internal sealed class HuffmanTable
{
    public const int LookupBits = 9;

    public ushort[] Fast { get; } = new ushort[1 << LookupBits];

    /// <summary>Largest code of each length 1..16 (index = length), −1 when none; index 17 is a sentinel.</summary>
    public int[] MaxCode { get; } = new int[18];

    /// <summary>Value index of the first code of each length, minus that code.</summary>
    public int[] ValueOffset { get; } = new int[17];

    public byte[] Values { get; }

    /// <param name="counts">Number of codes of each length 1..16 (counts[0] is length 1).</param>
    /// <exception cref="ArgumentException">when the counts describe an impossible code.</exception>
    public HuffmanTable(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> values)
    {
        Values = values.ToArray();
        int code = 0, k = 0;
        for (int len = 1; len <= 16; len++)
        {
            int n = counts[len - 1];
            ValueOffset[len] = k - code;
            if (n == 0)
            {
                MaxCode[len] = -1;
            }
            else
            {
                for (int i = 0; i < n; i++, k++, code++)
                {
                    if (code >= 1 << len)
                        throw new ArgumentException($"Huffman code lengths overflow at length {len}");
                    if (len <= LookupBits)
                    {
                        int shift = LookupBits - len;
                        for (int fill = 0; fill < 1 << shift; fill++)
                            Fast[(code << shift) | fill] = (ushort)(len << 8 | values[k]);
                    }
                }
                MaxCode[len] = code - 1;
            }
            code <<= 1;
        }
        MaxCode[17] = int.MaxValue;
    }
}
