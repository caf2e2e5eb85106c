using System.Globalization;
using System.Text;

namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Python str semantics on .NET strings: indexing and length by code point (not UTF-16 unit), Python's whitespace set,
/// casing rules (ß upper-cases to "SS"), repr quoting, split.
/// </summary>
internal static class PyStrings
{
    /// <summary>Python's str.isspace set: .NET's char.IsWhiteSpace plus the ASCII separators 0x1C-0x1F.</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || (c >= '\x1c' && c <= '\x1f');

    public static bool HasSurrogates(string s)
    {
        foreach (char c in s)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    /// <summary>Length in code points.</summary>
    public static int Length(string s) => HasSurrogates(s) ? CodePoints(s).Count : s.Length;

    /// <summary>Each code point as its own string.</summary>
    public static List<string> CodePoints(string s)
    {
        var result = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(s.Substring(i, 2));
                i++;
            }
            else result.Add(s[i].ToString());
        }
        return result;
    }

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        int start = 0, end = s.Length;
        Func<char, bool> strip = chars is null ? IsSpace : c => chars.Contains(c);
        if (left) while (start < end && strip(s[start])) start++;
        if (right) while (end > start && strip(s[end - 1])) end--;
        return s[start..end];
    }

    public static string Upper(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (c == 'ß') sb.Append("SS");
            else sb.Append(char.ToUpperInvariant(c));
        }
        return sb.ToString();
    }

    public static string Lower(string s) => s.ToLowerInvariant();

    /// <summary>Title case of one code point (the Latin digraphs have a distinct title form).</summary>
    private static string TitleChar(string c) => c switch
    {
        "Ǆ" or "ǅ" or "ǆ" => "ǅ",
        "Ǉ" or "ǈ" or "ǉ" => "ǈ",
        "Ǌ" or "ǋ" or "ǌ" => "ǋ",
        "Ǳ" or "ǲ" or "ǳ" => "ǲ",
        "ß" => "Ss",
        _ => Upper(c),
    };

    /// <summary>Python str.capitalize(): first code point to title case, the rest lower-cased.</summary>
    public static string Capitalize(string s)
    {
        if (s.Length == 0) return s;
        var cps = CodePoints(s);
        return TitleChar(cps[0]) + Lower(string.Concat(cps.Skip(1)));
    }

    /// <summary>Python str.title(): a cased character following an uncased one is title-cased, others lower-cased.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (string cp in CodePoints(s))
        {
            bool cased = IsCased(cp);
            sb.Append(cased ? (previousCased ? Lower(cp) : TitleChar(cp)) : cp);
            previousCased = cased;
        }
        return sb.ToString();
    }

    private static bool IsCased(string cp)
    {
        var cat = CharUnicodeInfo.GetUnicodeCategory(cp, 0);
        return cat is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;
    }

    /// <summary>jinja's |title filter: split before runs of "-", whitespace, "(", "{", "[", "&lt;"; upper the first char of each piece, lower the rest.</summary>
    public static string TitleFilter(string s)
    {
        var sb = new StringBuilder(s.Length);
        int i = 0;
        while (i < s.Length)
        {
            int j = i;
            bool separator = IsTitleSeparator(s[i]);
            while (j < s.Length && IsTitleSeparator(s[j]) == separator) j++;
            string piece = s[i..j];
            if (separator) sb.Append(piece);
            else
            {
                var cps = CodePoints(piece);
                sb.Append(Upper(cps[0])).Append(Lower(string.Concat(cps.Skip(1))));
            }
            i = j;
        }
        return sb.ToString();
    }

    private static bool IsTitleSeparator(char c) => c is '-' or '(' or '{' or '[' or '<' || IsSpace(c);

    /// <summary>Python str.split(sep=None, maxsplit=-1).</summary>
    public static List<object?> Split(string s, string? sep, long maxSplit)
    {
        var parts = new List<object?>();
        if (sep is null)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && IsSpace(s[i])) i++;
                if (i >= s.Length) break;
                if (maxSplit >= 0 && parts.Count == maxSplit)
                {
                    parts.Add(Strip(s[i..], null, false, true));
                    break;
                }
                int j = i;
                while (j < s.Length && !IsSpace(s[j])) j++;
                parts.Add(s[i..j]);
                i = j;
            }
            return parts;
        }
        if (sep.Length == 0) throw new TemplateError("empty separator");
        int start = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            int at = s.IndexOf(sep, start, StringComparison.Ordinal);
            if (at < 0) break;
            parts.Add(s[start..at]);
            start = at + sep.Length;
        }
        parts.Add(s[start..]);
        return parts;
    }

    /// <summary>Python repr() of a str: single quotes unless the text has ' and no ", escapes for non-printables.</summary>
    public static string Repr(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(quote);
        foreach (string cp in CodePoints(s))
        {
            int code = char.ConvertToUtf32(cp, 0);
            if (cp[0] == quote || cp == "\\") sb.Append('\\').Append(cp);
            else if (cp == "\n") sb.Append("\\n");
            else if (cp == "\r") sb.Append("\\r");
            else if (cp == "\t") sb.Append("\\t");
            else if (code < 0x20 || code == 0x7f) sb.Append("\\x").Append(code.ToString("x2", CultureInfo.InvariantCulture));
            else if (code < 0x7f || IsPrintable(cp)) sb.Append(cp);
            else if (code <= 0xff) sb.Append("\\x").Append(code.ToString("x2", CultureInfo.InvariantCulture));
            else if (code <= 0xffff) sb.Append("\\u").Append(code.ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append("\\U").Append(code.ToString("x8", CultureInfo.InvariantCulture));
        }
        return sb.Append(quote).ToString();
    }

    private static bool IsPrintable(string cp)
    {
        if (cp == " ") return true;
        var cat = CharUnicodeInfo.GetUnicodeCategory(cp, 0);
        return cat is not (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);
    }

    /// <summary>Ordinal comparison by code point (UTF-16 order differs above U+D7FF).</summary>
    public static int CompareCodePoints(string a, string b)
    {
        if (!HasSurrogates(a) && !HasSurrogates(b)) return string.CompareOrdinal(a, b);
        var ea = a.EnumerateRunes().GetEnumerator();
        var eb = b.EnumerateRunes().GetEnumerator();
        while (true)
        {
            bool ha = ea.MoveNext(), hb = eb.MoveNext();
            if (!ha || !hb) return ha ? 1 : hb ? -1 : 0;
            int c = ea.Current.Value.CompareTo(eb.Current.Value);
            if (c != 0) return c;
        }
    }
}
