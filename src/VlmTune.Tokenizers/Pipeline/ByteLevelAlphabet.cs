namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// GPT-2's <c>bytes_to_unicode</c>: every byte gets a printable stand-in character so that BPE vocabularies
/// are plain strings. Printable Latin-1 bytes (33..126, 161..172, 174..255) map to themselves; the other 68
/// bytes map to U+0100 + k, k counting them in byte order (so the space 0x20 becomes U+0120 'Ġ').
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>Byte → stand-in character.</summary>
    public static readonly char[] ByteToChar = BuildByteToChar();

    /// <summary>Stand-in character → byte, or -1; indexed by char code (all stand-ins are below U+0144).</summary>
    public static readonly short[] CharToByte = BuildCharToByte();

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            map[b] = printable ? (char)b : (char)(256 + extra++);
        }
        return map;
    }

    private static short[] BuildCharToByte()
    {
        var map = new short[0x144];
        Array.Fill(map, (short)-1);
        for (int b = 0; b < 256; b++) map[ByteToChar[b]] = (short)b;
        return map;
    }

    /// <summary>Byte of a stand-in character, or -1 when <paramref name="c"/> is not one.</summary>
    public static int ByteOf(char c) => c < CharToByte.Length ? CharToByte[c] : -1;
}
