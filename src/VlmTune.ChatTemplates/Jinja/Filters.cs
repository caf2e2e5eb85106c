using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// jinja2's built-in filters that chat templates use, plus transformers' tojson override. Each takes the piped value
/// and the filter's own arguments. String filters first turn the value into text as jinja's soft_str does
/// (Undefined → "", None → "None"). Collection filters live in CollectionFilters.cs.
/// </summary>
internal static partial class Filters
{
    private static readonly HashSet<string> Known =
    [
        "abs", "attr", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
        "format", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject",
        "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum", "title",
        "tojson", "trim", "unique", "upper", "wordcount",
    ];

    public static bool IsKnown(string name) => Known.Contains(name);

    public static object? Apply(string name, object? value, Arguments a) => name switch
    {
        "abs" => value switch
        {
            double d => (object)Math.Abs(d),
            bool or long => (object)Math.Abs(Values.ToLong(value)),
            _ => throw new TemplateError($"bad operand type for abs(): '{Values.TypeName(value)}'"),
        },
        "attr" => Members.GetAttr(value, Values.ToStr(a.Get(0, "name"))),
        "capitalize" => PyStrings.Capitalize(Values.ToStr(value)),
        "center" => Center(Values.ToStr(value), (int)Values.ToLong(a.Get(0, "width", 80L))),
        "count" or "length" => Values.Length(value),
        "d" or "default" => value is Undefined || (Values.Truthy(a.Get(1, "boolean", false)) && !Values.Truthy(value))
            ? a.Get(0, "default_value", "")
            : value,
        "e" or "escape" => HtmlEscape(Values.ToStr(value)),
        "first" => Values.Iterate(value) is { Count: > 0 } items ? items[0] : Undefined.WithHint("No first item, sequence was empty."),
        "last" => Values.Iterate(value) is { Count: > 0 } items ? items[^1] : Undefined.WithHint("No last item, sequence was empty."),
        "float" => ToFloat(value, a.Get(0, "default", 0.0)),
        "format" => PrintfFormat(Values.ToStr(value), a.Positional),
        "indent" => Indent(Values.ToStr(value), a.Get(0, "width", 4L), Values.Truthy(a.Get(1, "first", false)), Values.Truthy(a.Get(2, "blank", false))),
        "int" => ToInt(value, a.Get(0, "default", 0L), Values.ToLong(a.Get(1, "base", 10L))),
        "join" => Join(value, Values.ToStr(a.Get(0, "d", "")), a.Get(1, "attribute")),
        "lower" => PyStrings.Lower(Values.ToStr(value)),
        "replace" => Methods.Replace(Values.ToStr(value), Values.ToStr(a.Get(0, "old")), Values.ToStr(a.Get(1, "new")),
            a.Get(2, "count") is null ? -1 : Values.ToLong(a.Get(2, "count"))),
        "round" => Round(value, Values.ToLong(a.Get(0, "precision", 0L)), Values.ToStr(a.Get(1, "method", "common"))),
        "safe" or "string" => Values.ToStr(value),
        "title" => PyStrings.TitleFilter(Values.ToStr(value)),
        "tojson" => PyJson.Dumps(value, a.Check("tojson", "ensure_ascii", "indent", "separators", "sort_keys")),
        "trim" => PyStrings.Strip(Values.ToStr(value), a.Get(0, "chars") as string, true, true),
        "upper" => PyStrings.Upper(Values.ToStr(value)),
        "wordcount" => (long)Regex.Matches(Values.ToStr(value), @"\w+").Count,
        _ => ApplyCollection(name, value, a),
    };

    private static string Center(string s, int width)
    {
        int length = PyStrings.Length(s);
        if (width <= length) return s;
        int margin = width - length;
        int left = margin / 2 + (margin & width & 1);
        return new string(' ', left) + s + new string(' ', margin - left);
    }

    private static string HtmlEscape(string s) =>
        s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");

    private static object? ToFloat(object? value, object? fallback)
    {
        switch (value)
        {
            case bool or long or double: return Values.ToDouble(value);
            case string s when double.TryParse(s.Trim().Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out double d): return d;
            default: return fallback;
        }
    }

    private static object? ToInt(object? value, object? fallback, long numberBase)
    {
        switch (value)
        {
            case bool or long: return Values.ToLong(value);
            case double d when !double.IsNaN(d) && !double.IsInfinity(d): return (long)Math.Truncate(d);
            case string s:
                string t = s.Trim().Replace("_", "");
                try
                {
                    if (numberBase == 10 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
                    if (numberBase != 10 && t.Length > 0) return Convert.ToInt64(t, (int)numberBase);
                }
                catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
                {
                    return fallback;
                }
                if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && !double.IsNaN(f) && !double.IsInfinity(f))
                    return (long)Math.Truncate(f);
                return fallback;
            default: return fallback;
        }
    }

    private static string Join(object? value, string separator, object? attribute)
    {
        var items = Values.Iterate(value);
        if (attribute is not null) items = items.Select(x => AttributeGetter(x, attribute)).ToList();
        return string.Join(separator, items.Select(Values.ToStr));
    }

    private static string Indent(string s, object? width, bool first, bool blank)
    {
        string indentation = width is string w ? w : new string(' ', (int)Math.Max(0, Values.ToLong(width)));
        var lines = Methods.SplitLines(s + "\n").Cast<string>().ToList();
        string result;
        if (blank) result = string.Join("\n" + indentation, lines);
        else
        {
            result = lines[0];
            if (lines.Count > 1) result += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? indentation + l : l));
        }
        return first ? indentation + result : result;
    }

    private static double Round(object? value, long precision, string method)
    {
        double x = Values.ToDouble(value);
        double scale = Math.Pow(10, precision);
        return method switch
        {
            "common" => Math.Round(x, (int)precision, MidpointRounding.ToEven),
            "ceil" => Math.Ceiling(x * scale) / scale,
            "floor" => Math.Floor(x * scale) / scale,
            _ => throw new TemplateError("method must be common, ceil or floor"),
        };
    }

    /// <summary>The format filter: printf-style "%s", "%d", "%i", "%f", "%r", "%%" (no widths or flags).</summary>
    private static string PrintfFormat(string format, IReadOnlyList<object?> args)
    {
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            char spec = format[++i];
            if (spec == '%')
            {
                sb.Append('%');
                continue;
            }
            if (next >= args.Count) throw new TemplateError("not enough arguments for format string");
            var arg = args[next++];
            sb.Append(spec switch
            {
                's' => Values.ToStr(arg),
                'r' => Values.Repr(arg),
                'd' or 'i' => Values.IsNumber(arg) ? ((long)Math.Truncate(Values.ToDouble(arg))).ToString(CultureInfo.InvariantCulture)
                    : throw new TemplateError($"%{spec} format: a real number is required, not {Values.TypeName(arg)}"),
                'f' => Values.ToDouble(arg).ToString("F6", CultureInfo.InvariantCulture),
                _ => throw new TemplateError($"unsupported format character '{spec}'"),
            });
        }
        if (next < args.Count) throw new TemplateError("not all arguments converted during string formatting");
        return sb.ToString();
    }
}
