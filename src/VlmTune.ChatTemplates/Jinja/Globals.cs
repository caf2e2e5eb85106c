using System.Globalization;
using System.Text;

namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// The global names a chat template can call: jinja's range / namespace / dict, and the two transformers adds,
/// raise_exception(message) and strftime_now(format).
/// </summary>
internal static class Globals
{
    /// <summary>jinja2's sandbox refuses ranges longer than this.</summary>
    public const int MaxRange = 100_000;

    public static Dictionary<string, object?> Create(Func<DateTime> now) => new(StringComparer.Ordinal)
    {
        ["range"] = new Callable("range", Range),
        ["namespace"] = new Callable("namespace", MakeNamespace),
        ["dict"] = new Callable("dict", a =>
        {
            var d = new JinjaDict();
            if (a.Positional.Count > 0)
                foreach (var e in (a.Positional[0] as JinjaDict ?? throw new TemplateError("dict() positional argument must be a mapping")).Entries)
                    d.Set(e.Key, e.Value);
            foreach (var kv in a.Keywords) d.Set(kv.Key, kv.Value);
            return d;
        }),
        ["raise_exception"] = new Callable("raise_exception", a =>
            throw new TemplateError(Values.ToStr(a.Get(0, "message"))) { Raised = true }),
        ["strftime_now"] = new Callable("strftime_now", a => Strftime(now(), Values.ToStr(a.Get(0, "format")))),
    };

    private static object? Range(Arguments a)
    {
        if (a.Positional.Count is 0 or > 3) throw new TemplateError($"range expected 1 to 3 arguments, got {a.Positional.Count}");
        long start = 0, stop, step = 1;
        if (a.Positional.Count == 1) stop = Values.ToLong(a.Positional[0]);
        else
        {
            start = Values.ToLong(a.Positional[0]);
            stop = Values.ToLong(a.Positional[1]);
            if (a.Positional.Count == 3) step = Values.ToLong(a.Positional[2]);
        }
        if (step == 0) throw new TemplateError("range() arg 3 must not be zero");
        var result = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count >= MaxRange)
                throw new TemplateError($"Range too big. The sandbox blocks ranges larger than MAX_RANGE ({MaxRange}).");
            result.Add(i);
        }
        return result;
    }

    private static object? MakeNamespace(Arguments a)
    {
        var ns = new Namespace();
        foreach (var p in a.Positional)
        {
            if (p is not JinjaDict d) throw new TemplateError("namespace() positional arguments must be mappings");
            foreach (var e in d.Entries) ns.Attributes[Values.ToStr(e.Key)] = e.Value;
        }
        foreach (var kv in a.Keywords) ns.Attributes[kv.Key] = kv.Value;
        return ns;
    }

    /// <summary>C/Python strftime for the common codes (%d %b %Y %B %m %H %M %S %a %A %y %j %p %I %f %%, glibc's %-d and %e).</summary>
    public static string Strftime(DateTime t, string format)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            char c = format[++i];
            bool noPad = false;
            if (c == '-' && i + 1 < format.Length)
            {
                noPad = true;
                c = format[++i];
            }
            string Pad(int v, int width) => noPad ? v.ToString(inv) : v.ToString(new string('0', width), inv);
            sb.Append(c switch
            {
                'a' => t.ToString("ddd", inv),
                'A' => t.ToString("dddd", inv),
                'b' or 'h' => t.ToString("MMM", inv),
                'B' => t.ToString("MMMM", inv),
                'd' => Pad(t.Day, 2),
                'e' => t.Day.ToString(inv).PadLeft(2),
                'm' => Pad(t.Month, 2),
                'y' => Pad(t.Year % 100, 2),
                'Y' => t.Year.ToString(inv),
                'H' => Pad(t.Hour, 2),
                'I' => Pad(t.Hour % 12 == 0 ? 12 : t.Hour % 12, 2),
                'M' => Pad(t.Minute, 2),
                'S' => Pad(t.Second, 2),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'j' => Pad(t.DayOfYear, 3),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", inv),
                'Z' or 'z' => "",
                '%' => "%",
                _ => "%" + (noPad ? "-" : "") + c,
            });
        }
        return sb.ToString();
    }
}
