using System.Globalization;
using System.Text;

namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Decodes a string literal's body as jinja2 does (Python's "unicode-escape" codec applied after backslash-replacing
/// non-ASCII characters): \n \t \r \\ \' \" \a \b \f \v, octal \ooo, \xhh, \uhhhh, \Uhhhhhhhh, backslash-newline
/// joins lines, and unknown escapes such as "\d" are kept verbatim.
/// </summary>
internal static class StringEscapes
{
    public static string Decode(string raw, SourceText source, int offset)
    {
        if (!raw.Contains('\\')) return raw;
        var sb = new StringBuilder(raw.Length);
        for (int i = 0; i < raw.Length; i++)
        {
            char c = raw[i];
            if (c != '\\' || i + 1 >= raw.Length)
            {
                sb.Append(c);
                continue;
            }
            char e = raw[++i];
            switch (e)
            {
                case '\n': break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case 'x': i = AppendHex(raw, i, 2, sb, source, offset); break;
                case 'u': i = AppendHex(raw, i, 4, sb, source, offset); break;
                case 'U': i = AppendHex(raw, i, 8, sb, source, offset); break;
                case 'N': throw source.Error("\\N{...} escapes are not supported in string literals", offset + i - 1);
                case >= '0' and <= '7':
                    int end = i;
                    while (end < raw.Length && end < i + 3 && raw[end] >= '0' && raw[end] <= '7') end++;
                    sb.Append((char)Convert.ToInt32(raw[i..end], 8));
                    i = end - 1;
                    break;
                default:
                    sb.Append('\\');
                    if (e > 0x7f) sb.Append(BackslashReplace(raw, ref i));
                    else sb.Append(e);
                    break;
            }
        }
        return sb.ToString();
    }

    private static int AppendHex(string raw, int i, int count, StringBuilder sb, SourceText source, int offset)
    {
        int start = i + 1;
        int end = start;
        while (end < raw.Length && end < start + count && Uri.IsHexDigit(raw[end])) end++;
        if (end - start != count)
            throw source.Error($"truncated \\{raw[i]}{new string('X', count)} escape in string literal", offset + i - 1);
        int code = int.Parse(raw[start..end], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) throw source.Error("illegal Unicode character in string literal", offset + i - 1);
        sb.Append(char.ConvertFromUtf32(code));
        return end - 1;
    }

    /// <summary>"\é" in a literal decodes to the text "\xe9" (the codec sees the escaped form of é after a literal backslash).</summary>
    private static string BackslashReplace(string raw, ref int i)
    {
        int code = char.ConvertToUtf32(raw, i);
        if (code > 0xffff) i++;
        return code <= 0xff ? $"x{code:x2}" : code <= 0xffff ? $"u{code:x4}" : $"U{code:x8}";
    }
}
