using System.Globalization;
using System.Text;

namespace VlmTune.Checkpoints.Json;

/// <summary>
/// Writes JSON byte-for-byte like Python's <c>json.dumps(obj, indent=2, sort_keys=True)</c> (ensure_ascii on),
/// which is how transformers writes config.json and model.safetensors.index.json. Values are a small closed set:
/// <see cref="SortedObject"/> (string → value), <c>IReadOnlyList&lt;object?&gt;</c>, string, bool, long, int,
/// double (Python float repr) and null.
/// </summary>
internal static class PythonJson
{
    /// <summary>A JSON object whose keys are emitted in Python's sort order (by code point).</summary>
    internal sealed class SortedObject : SortedDictionary<string, object?>
    {
        public SortedObject() : base(CodePointComparer.Instance) { }
    }

    public static string Dumps(object? value)
    {
        var sb = new StringBuilder();
        Write(sb, value, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, int depth)
    {
        switch (value)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case int i: sb.Append(i.ToString(CultureInfo.InvariantCulture)); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(FloatRepr(d)); break;
            case string s: WriteString(sb, s); break;
            case SortedObject obj: WriteObject(sb, obj, depth); break;
            case IReadOnlyList<object?> list: WriteList(sb, list, depth); break;
            default: throw new ArgumentException($"unsupported JSON value type {value.GetType()}");
        }
    }

    private static void WriteObject(StringBuilder sb, SortedObject obj, int depth)
    {
        if (obj.Count == 0) { sb.Append("{}"); return; }
        sb.Append('{');
        bool first = true;
        foreach (var (key, v) in obj)
        {
            if (!first) sb.Append(',');
            first = false;
            sb.Append('\n').Append(' ', 2 * (depth + 1));
            WriteString(sb, key);
            sb.Append(": ");
            Write(sb, v, depth + 1);
        }
        sb.Append('\n').Append(' ', 2 * depth).Append('}');
    }

    private static void WriteList(StringBuilder sb, IReadOnlyList<object?> list, int depth)
    {
        if (list.Count == 0) { sb.Append("[]"); return; }
        sb.Append('[');
        for (int i = 0; i < list.Count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append('\n').Append(' ', 2 * (depth + 1));
            Write(sb, list[i], depth + 1);
        }
        sb.Append('\n').Append(' ', 2 * depth).Append(']');
    }

    /// <summary>Python's ensure_ascii string escaping: \" \\ \n \r \t \b \f, other controls and non-ASCII as \uxxxx.</summary>
    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7E)
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>
    /// Python's <c>repr(float)</c>: the shortest round-trip digits, fixed notation when the decimal exponent is in
    /// (-4, 16] (with a trailing ".0" for integral values), otherwise d.ddde±XX. 1e-5 → "1e-05", 1e5 → "100000.0".
    /// </summary>
    public static string FloatRepr(double x)
    {
        if (double.IsNaN(x) || double.IsInfinity(x))
            throw new ArgumentException($"{x} has no JSON representation");
        if (x == 0) return double.IsNegative(x) ? "-0.0" : "0.0";
        string sign = x < 0 ? "-" : "";
        string r = Math.Abs(x).ToString("R", CultureInfo.InvariantCulture);
        string digits;
        int decpt; // value = 0.DIGITS × 10^decpt
        int e = r.IndexOf('E');
        if (e >= 0)
        {
            string mantissa = r[..e];
            int exp = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            digits = mantissa.Replace(".", "");
            decpt = exp + 1;
        }
        else
        {
            int dot = r.IndexOf('.');
            string intPart = dot >= 0 ? r[..dot] : r;
            string fracPart = dot >= 0 ? r[(dot + 1)..] : "";
            if (intPart != "0")
            {
                digits = intPart + fracPart;
                decpt = intPart.Length;
            }
            else
            {
                int zeros = fracPart.Length - fracPart.TrimStart('0').Length;
                digits = fracPart[zeros..];
                decpt = -zeros;
            }
        }
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";

        if (decpt > -4 && decpt <= 16)
        {
            if (decpt <= 0) return sign + "0." + new string('0', -decpt) + digits;
            if (decpt >= digits.Length) return sign + digits + new string('0', decpt - digits.Length) + ".0";
            return sign + digits[..decpt] + "." + digits[decpt..];
        }
        int exponent = decpt - 1;
        string m = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        return sign + m + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>Orders strings by Unicode code point, as Python's str comparison does.</summary>
    internal sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? a, string? b)
        {
            if (a is null || b is null) return a is null ? (b is null ? 0 : -1) : 1;
            var ea = a.EnumerateRunes();
            var eb = b.EnumerateRunes();
            while (true)
            {
                bool ha = ea.MoveNext(), hb = eb.MoveNext();
                if (!ha || !hb) return ha == hb ? 0 : (ha ? 1 : -1);
                int c = ea.Current.Value.CompareTo(eb.Current.Value);
                if (c != 0) return c;
            }
        }
    }
}
