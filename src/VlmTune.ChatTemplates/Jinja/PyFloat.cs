using System.Globalization;

namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Python's <c>repr(float)</c>: the shortest round-trip digits, fixed notation when the decimal exponent is in
/// [-4, 16), else "1e-05" / "1.5e+16" style; always with a ".0" when integral ("2.0"). json.dumps uses the same text
/// except for the non-finite values.
/// </summary>
internal static class PyFloat
{
    public static string Repr(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";
        if (value == 0) return double.IsNegative(value) ? "-0.0" : "0.0";

        // .NET's "R" gives the shortest round-trip digits; re-shape them into Python's layout.
        string shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var (digits, exponent) = Decompose(shortest);
        string sign = value < 0 ? "-" : "";
        if (exponent >= -4 && exponent < 16)
        {
            if (exponent >= 0)
            {
                string intPart = digits.Length > exponent + 1 ? digits[..(exponent + 1)] : digits.PadRight(exponent + 1, '0');
                string frac = digits.Length > exponent + 1 ? digits[(exponent + 1)..] : "0";
                return sign + intPart + "." + frac;
            }
            return sign + "0." + new string('0', -exponent - 1) + digits;
        }
        string mantissa = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        string exp = (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
        return sign + mantissa + "e" + exp;
    }

    /// <summary>Splits a positive .NET number text ("123.45", "1.5E-05") into significant digits and the exponent of the first digit.</summary>
    private static (string Digits, int Exponent) Decompose(string text)
    {
        int e = 0;
        int ePos = text.IndexOfAny(['E', 'e']);
        if (ePos >= 0)
        {
            e = int.Parse(text[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..ePos];
        }
        int dot = text.IndexOf('.');
        string intPart = dot >= 0 ? text[..dot] : text;
        string fracPart = dot >= 0 ? text[(dot + 1)..] : "";
        string all = intPart + fracPart;
        int firstNonZero = 0;
        while (firstNonZero < all.Length && all[firstNonZero] == '0') firstNonZero++;
        string digits = all[firstNonZero..].TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int exponent = intPart.Length - 1 - firstNonZero + e;
        return (digits, exponent);
    }
}
