using System.Globalization;

namespace VlmTune.Quantization;

/// <summary>
/// Formats a double exactly as Python's <c>repr(float)</c> / <c>json.dumps</c> does: the shortest round-trip digits,
/// fixed notation when the decimal exponent e satisfies −4 ≤ e &lt; 16 (with a trailing ".0" for integers),
/// otherwise "d.ddde±XX" with at least two exponent digits.
/// </summary>
internal static class PythonFloat
{
    public static string Repr(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "Infinity";
        if (double.IsNegativeInfinity(value)) return "-Infinity";
        if (value == 0) return BitConverter.DoubleToInt64Bits(value) < 0 ? "-0.0" : "0.0";

        // "R" on .NET Core 3.0+ is the shortest round-trippable form; take its digits and exponent.
        string shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        (string digits, int exponent) = Decompose(shortest);
        string sign = value < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16)
        {
            string mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            string exp = Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
            return $"{sign}{mantissa}e{(exponent < 0 ? "-" : "+")}{exp}";
        }
        if (exponent < 0) return $"{sign}0.{new string('0', -exponent - 1)}{digits}";
        if (digits.Length <= exponent + 1) return $"{sign}{digits}{new string('0', exponent + 1 - digits.Length)}.0";
        return $"{sign}{digits[..(exponent + 1)]}.{digits[(exponent + 1)..]}";
    }

    /// <summary>"1.2345E-05" / "0.00123" / "12345" → significant digits without leading/trailing zeros and e.</summary>
    private static (string Digits, int Exponent) Decompose(string s)
    {
        int e = 0;
        int ePos = s.IndexOfAny(['E', 'e']);
        if (ePos >= 0)
        {
            e = int.Parse(s[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            s = s[..ePos];
        }
        int dot = s.IndexOf('.');
        string intPart = dot >= 0 ? s[..dot] : s;
        string frac = dot >= 0 ? s[(dot + 1)..] : "";
        string all = intPart + frac;
        int firstNonZero = 0;
        while (firstNonZero < all.Length && all[firstNonZero] == '0') firstNonZero++;
        string digits = all[firstNonZero..].TrimEnd('0');
        int exponent = intPart.Length - 1 - firstNonZero + e;
        return (digits.Length == 0 ? "0" : digits, exponent);
    }
}
