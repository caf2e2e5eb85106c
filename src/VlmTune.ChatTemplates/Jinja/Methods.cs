using System.Text;

namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// The Python methods templates call on values: str (strip, split, startswith, replace, format, ...),
/// dict (items, keys, values, get) and list/tuple (index, count). Each returns a bound <see cref="Callable"/>,
/// or null when the type has no such method.
/// </summary>
internal static class Methods
{
    public static Callable? String(string s, string name) => name switch
    {
        "strip" or "lstrip" or "rstrip" => Bind(name, a =>
        {
            a.Check(name, "chars");
            var chars = a.Get(0, "chars");
            return PyStrings.Strip(s, chars as string, name != "rstrip", name != "lstrip");
        }),
        "upper" => Bind(name, _ => PyStrings.Upper(s)),
        "lower" => Bind(name, _ => PyStrings.Lower(s)),
        "title" => Bind(name, _ => PyStrings.Title(s)),
        "capitalize" => Bind(name, _ => PyStrings.Capitalize(s)),
        "startswith" or "endswith" => Bind(name, a =>
        {
            var prefixes = a.Get(0, "prefix") switch
            {
                string p => new[] { p },
                TupleValue t => t.Select(x => x as string ?? throw new TemplateError($"tuple for {name} must only contain str")).ToArray(),
                var other => throw new TemplateError($"{name} first arg must be str or a tuple of str, not {Values.TypeName(other)}"),
            };
            return prefixes.Any(p => name == "startswith" ? s.StartsWith(p, StringComparison.Ordinal) : s.EndsWith(p, StringComparison.Ordinal));
        }),
        "split" => Bind(name, a =>
        {
            a.Check(name, "sep", "maxsplit");
            return PyStrings.Split(s, a.Get(0, "sep") as string, a.Has(1, "maxsplit") ? Values.ToLong(a.Get(1, "maxsplit")) : -1);
        }),
        "splitlines" => Bind(name, _ => SplitLines(s)),
        "replace" => Bind(name, a =>
        {
            string old = Str(a.Get(0, "old")), replacement = Str(a.Get(1, "new"));
            long count = a.Has(2, "count") ? Values.ToLong(a.Get(2, "count")) : -1;
            return Replace(s, old, replacement, count);
        }),
        "find" => Bind(name, a => (long)IndexOfCodePoints(s, Str(a.Get(0, "sub")))),
        "count" => Bind(name, a => (long)CountOccurrences(s, Str(a.Get(0, "sub")))),
        "join" => Bind(name, a => string.Join(s, Values.Iterate(a.Get(0, "iterable")).Select(x =>
            x as string ?? throw new TemplateError($"sequence item: expected str instance, {Values.TypeName(x)} found")))),
        "removeprefix" => Bind(name, a => s.StartsWith(Str(a.Get(0, "prefix")), StringComparison.Ordinal) ? s[Str(a.Get(0, "prefix")).Length..] : s),
        "removesuffix" => Bind(name, a => Str(a.Get(0, "suffix")).Length > 0 && s.EndsWith(Str(a.Get(0, "suffix")), StringComparison.Ordinal) ? s[..^Str(a.Get(0, "suffix")).Length] : s),
        "isdigit" => Bind(name, _ => s.Length > 0 && s.All(char.IsDigit)),
        "isalpha" => Bind(name, _ => s.Length > 0 && s.All(char.IsLetter)),
        "isalnum" => Bind(name, _ => s.Length > 0 && s.All(char.IsLetterOrDigit)),
        "isspace" => Bind(name, _ => s.Length > 0 && s.All(PyStrings.IsSpace)),
        "isupper" => Bind(name, _ => s.Any(char.IsUpper) && !s.Any(char.IsLower)),
        "islower" => Bind(name, _ => s.Any(char.IsLower) && !s.Any(char.IsUpper)),
        "format" => Bind(name, a => Format(s, a)),
        _ => null,
    };

    public static Callable? Dict(JinjaDict d, string name) => name switch
    {
        "items" => Bind(name, _ => d.Entries.Select(e => (object?)new TupleValue([e.Key, e.Value])).ToList()),
        "keys" => Bind(name, _ => d.Keys.ToList()),
        "values" => Bind(name, _ => d.ValuesInOrder.ToList()),
        "get" => Bind(name, a => d.TryGet(a.Get(0, "key"), out var v) ? v : a.Get(1, "default")),
        "copy" => Bind(name, _ => d),
        _ => null,
    };

    public static Callable? Sequence(IReadOnlyList<object?> list, string name) => name switch
    {
        "index" => Bind(name, a =>
        {
            var x = a.Get(0, "value");
            for (int i = 0; i < list.Count; i++)
                if (Values.PyEquals(list[i], x)) return (long)i;
            throw new TemplateError($"{Values.Repr(x)} is not in list");
        }),
        "count" => Bind(name, a => (long)list.Count(x => Values.PyEquals(x, a.Get(0, "value")))),
        "copy" when list is List<object?> l => Bind(name, _ => l.ToList()),
        _ => null,
    };

    /// <summary>Python str.splitlines() for \n, \r\n and \r (no trailing empty line).</summary>
    public static List<object?> SplitLines(string s)
    {
        var lines = s.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n').Select(l => (object?)l).ToList();
        if (lines.Count > 0 && (string)lines[^1]! == "") lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    private static Callable Bind(string name, Func<Arguments, object?> f) => new(name, f);

    private static string Str(object? v) => v as string ?? throw new TemplateError($"expected a str argument, got '{Values.TypeName(v)}'");

    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) return old.Length == 0 ? InsertEverywhere(s, replacement) : s.Replace(old, replacement, StringComparison.Ordinal);
        var sb = new StringBuilder();
        int start = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, start, StringComparison.Ordinal);
            if (at < 0 || (old.Length == 0 && at >= s.Length)) break;
            sb.Append(s, start, at - start).Append(replacement);
            if (old.Length == 0)
            {
                sb.Append(s[at]);
                at++;
            }
            start = at + old.Length;
        }
        return sb.Append(s, start, s.Length - start).ToString();
    }

    private static string InsertEverywhere(string s, string insert)
    {
        var sb = new StringBuilder(insert);
        foreach (string cp in PyStrings.CodePoints(s)) sb.Append(cp).Append(insert);
        return sb.ToString();
    }

    private static int IndexOfCodePoints(string s, string sub)
    {
        int at = s.IndexOf(sub, StringComparison.Ordinal);
        return at < 0 ? -1 : PyStrings.Length(s[..at]);
    }

    private static int CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0) return PyStrings.Length(s) + 1;
        int n = 0;
        for (int at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>str.format with "{}", "{0}", "{name}" and "{{"/"}}"; format specs are not supported.</summary>
    private static string Format(string s, Arguments a)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '{' && i + 1 < s.Length && s[i + 1] == '{') { sb.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < s.Length && s[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (c != '{') { sb.Append(c); continue; }
            int close = s.IndexOf('}', i);
            if (close < 0) throw new TemplateError("Single '{' encountered in format string");
            string field = s[(i + 1)..close];
            if (field.Contains(':') || field.Contains('!')) throw new TemplateError("format specs in str.format are not supported");
            object? value = field.Length == 0 ? a.Get(auto++, "\0")
                : int.TryParse(field, out int index) ? a.Get(index, "\0")
                : a.Get(-1, field, Undefined.Variable(field));
            sb.Append(Values.ToStr(value));
            i = close;
        }
        return sb.ToString();
    }
}
