using System.Buffers;
using System.Globalization;
using System.Text;

namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// The character classes the Hugging Face pipeline relies on, expressed with .NET's Unicode data.
/// Rust and Oniguruma may ship a slightly different Unicode version: characters assigned in the newest
/// Unicode releases can classify differently (see the fixtures README).
/// </summary>
internal static class UnicodeClass
{
    /// <summary>Oniguruma <c>\p{L}</c>.</summary>
    public static bool IsLetter(Rune r) => Rune.GetUnicodeCategory(r) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => true,
        _ => false,
    };

    /// <summary>Oniguruma <c>\p{N}</c> and Rust <c>char::is_numeric</c> (Nd, Nl, No).</summary>
    public static bool IsNumber(Rune r) => Rune.GetUnicodeCategory(r) switch
    {
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
        _ => false,
    };

    /// <summary>Unicode White_Space: Oniguruma and Rust <c>\s</c>, Rust <c>char::is_whitespace</c>.</summary>
    public static bool IsWhiteSpace(Rune r) => Rune.IsWhiteSpace(r);

    /// <summary>
    /// Rust regex (Unicode) <c>\w</c>: Alphabetic, Mark, Nd, Pc, Join_Control. Alphabetic = letters, Nl and
    /// Other_Alphabetic; Other_Alphabetic outside the Mark categories is only the circled/squared Latin letters.
    /// </summary>
    public static bool IsWordCharacter(Rune r)
    {
        switch (Rune.GetUnicodeCategory(r))
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
            case UnicodeCategory.NonSpacingMark:
            case UnicodeCategory.SpacingCombiningMark:
            case UnicodeCategory.EnclosingMark:
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.ConnectorPunctuation:
                return true;
        }
        int v = r.Value;
        return v == 0x200C || v == 0x200D
            || (v >= 0x24B6 && v <= 0x24E9)
            || (v >= 0x1F130 && v <= 0x1F149)
            || (v >= 0x1F150 && v <= 0x1F169)
            || (v >= 0x1F170 && v <= 0x1F189);
    }

    /// <summary>The scalar starting at <paramref name="i"/>; lone surrogates read as U+FFFD, length 1.</summary>
    public static Rune RuneAt(ReadOnlySpan<char> s, int i, out int length)
    {
        if (Rune.DecodeFromUtf16(s[i..], out Rune r, out length) != OperationStatus.Done)
        {
            length = 1;
            return Rune.ReplacementChar;
        }
        return r;
    }

    /// <summary>The scalar ending just before <paramref name="end"/>.</summary>
    public static Rune RuneBefore(ReadOnlySpan<char> s, int end, out int length)
    {
        if (Rune.DecodeLastFromUtf16(s[..end], out Rune r, out length) != OperationStatus.Done)
        {
            length = 1;
            return Rune.ReplacementChar;
        }
        return r;
    }
}
