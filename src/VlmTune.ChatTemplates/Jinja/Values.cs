using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// The value model a template sees, with Python semantics. Runtime values are: null (None), bool, long (int),
/// double (float), string, <see cref="List{T}"/> of object? (list), <see cref="TupleValue"/>, <see cref="JinjaDict"/>,
/// <see cref="Namespace"/>, <see cref="LoopContext"/>, <see cref="Callable"/> and <see cref="Undefined"/>.
/// <see cref="FromHost"/> converts caller-supplied .NET values (dictionaries, lists, arrays, JsonElement, numbers)
/// into that set once, at render entry.
/// </summary>
internal static class Values
{
    public static object? FromHost(object? value) => value switch
    {
        null => null,
        string or bool or long or double or Undefined or JinjaDict or TupleValue or Namespace or Callable => value,
        List<object?> list => list.Select(FromHost).ToList(),
        int i => (long)i,
        short s => (long)s,
        byte b => (long)b,
        uint u => (long)u,
        float f => (double)f,
        decimal m => (double)m,
        char c => c.ToString(),
        ChatMessage m => FromHost(m.ToDictionary()),
        ContentPart p => FromHost(p.ToDictionary()),
        JsonElement e => FromJson(e),
        IEnumerable<KeyValuePair<string, object?>> pairs => DictFrom(pairs.Select(kv => new KeyValuePair<object?, object?>(kv.Key, kv.Value))),
        IDictionary dict => DictFrom(dict.Cast<DictionaryEntry>().Select(e => new KeyValuePair<object?, object?>(e.Key, e.Value))),
        IEnumerable items => items.Cast<object?>().Select(FromHost).ToList(),
        _ => throw new TemplateError($"values of .NET type {value.GetType().Name} cannot be passed to a template"),
    };

    private static JinjaDict DictFrom(IEnumerable<KeyValuePair<object?, object?>> pairs)
    {
        var d = new JinjaDict();
        foreach (var kv in pairs) d.Set(FromHost(kv.Key), FromHost(kv.Value));
        return d;
    }

    public static object? FromJson(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var d = new JinjaDict();
                foreach (var p in e.EnumerateObject()) d.Set(p.Name, FromJson(p.Value));
                return d;
            case JsonValueKind.Array: return e.EnumerateArray().Select(FromJson).ToList();
            case JsonValueKind.String: return e.GetString();
            case JsonValueKind.Number:
                string raw = e.GetRawText();
                if (raw.IndexOfAny(['.', 'e', 'E']) < 0 && e.TryGetInt64(out long l)) return l;
                return e.GetDouble();
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            default: return null;
        }
    }

    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        TupleValue => "tuple",
        JinjaDict => "dict",
        Namespace => "Namespace",
        LoopContext => "LoopContext",
        Callable => "builtin_function_or_method",
        Undefined => "Undefined",
        _ => v.GetType().Name,
    };

    /// <summary>jinja2's object_type_repr, used in undefined-attribute messages ("dict object", "None").</summary>
    public static string ObjectTypeRepr(object? v) => v is null ? "None" : $"{TypeName(v)} object";

    public static bool IsNumber(object? v) => v is bool or long or double;

    public static bool Truthy(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        TupleValue t => t.Count > 0,
        JinjaDict d => d.Count > 0,
        _ => true,
    };

    /// <summary>Python str().</summary>
    public static string ToStr(object? v) => v switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(v),
    };

    /// <summary>Python repr() (what appears for items when a list or dict is printed).</summary>
    public static string Repr(object? v)
    {
        switch (v)
        {
            case null: return "None";
            case bool b: return b ? "True" : "False";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return PyFloat.Repr(d);
            case string s: return PyStrings.Repr(s);
            case Undefined: return "Undefined";
            case List<object?> list: return "[" + string.Join(", ", list.Select(Repr)) + "]";
            case TupleValue t: return t.Count == 1 ? "(" + Repr(t[0]) + ",)" : "(" + string.Join(", ", t.Select(Repr)) + ")";
            case JinjaDict d: return "{" + string.Join(", ", d.Entries.Select(e => Repr(e.Key) + ": " + Repr(e.Value))) + "}";
            case Namespace ns:
                return "<Namespace {" + string.Join(", ", ns.Attributes.Select(a => Repr(a.Key) + ": " + Repr(a.Value))) + "}>";
            case Callable c: return $"<built-in method {c.Name}>";
            case LoopContext: return "<LoopContext>";
            default: return v.ToString() ?? "";
        }
    }

    /// <summary>Python ==.</summary>
    public static bool PyEquals(object? a, object? b)
    {
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a) == ToDouble(b);
            return ToLong(a) == ToLong(b);
        }
        switch (a)
        {
            case null: return b is null;
            case string sa: return b is string sb && sa == sb;
            case List<object?> la: return b is List<object?> lb && SequenceEquals(la, lb);
            case TupleValue ta: return b is TupleValue tb && SequenceEquals(ta, tb);
            case JinjaDict da:
                if (b is not JinjaDict db || da.Count != db.Count) return false;
                foreach (var e in da.Entries)
                    if (!db.TryGet(e.Key, out var other) || !PyEquals(e.Value, other)) return false;
                return true;
            default: return ReferenceEquals(a, b);
        }
    }

    private static bool SequenceEquals(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
            if (!PyEquals(a[i], b[i])) return false;
        return true;
    }

    /// <summary>Python ordering for &lt; &lt;= &gt; &gt;= and sort: numbers, strings (by code point), lists/tuples lexicographically.</summary>
    public static int Compare(object? a, object? b, string op)
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a).CompareTo(ToDouble(b));
            return ToLong(a).CompareTo(ToLong(b));
        }
        if (a is string sa && b is string sb) return Math.Sign(PyStrings.CompareCodePoints(sa, sb));
        if ((a is List<object?> && b is List<object?>) || (a is TupleValue && b is TupleValue))
        {
            var la = (IReadOnlyList<object?>)a;
            var lb = (IReadOnlyList<object?>)b!;
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (PyEquals(la[i], lb[i])) continue;
                return Compare(la[i], lb[i], op);
            }
            return la.Count.CompareTo(lb.Count);
        }
        throw new TemplateError($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    public static long ToLong(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        _ => throw new TemplateError($"expected an integer, got '{TypeName(v)}'"),
    };

    public static double ToDouble(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        double d => d,
        _ => throw new TemplateError($"expected a number, got '{TypeName(v)}'"),
    };

    /// <summary>Python iteration: list/tuple items, dict keys, string code points; Undefined iterates as empty.</summary>
    public static IReadOnlyList<object?> Iterate(object? v) => v switch
    {
        List<object?> l => l,
        TupleValue t => t,
        JinjaDict d => d.Keys.ToList(),
        string s => PyStrings.CodePoints(s).Cast<object?>().ToList(),
        Undefined => Array.Empty<object?>(),
        _ => throw new TemplateError($"'{TypeName(v)}' object is not iterable"),
    };

    public static long Length(object? v) => v switch
    {
        string s => PyStrings.Length(s),
        List<object?> l => l.Count,
        TupleValue t => t.Count,
        JinjaDict d => d.Count,
        Undefined => 0,
        _ => throw new TemplateError($"object of type '{TypeName(v)}' has no len()"),
    };

    /// <summary>Python <c>item in container</c>.</summary>
    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s:
                if (item is not string sub) throw new TemplateError($"'in <string>' requires string as left operand, not {TypeName(item)}");
                return s.Contains(sub, StringComparison.Ordinal);
            case JinjaDict d: return d.ContainsKey(item);
            case Undefined: return false;
            case List<object?> or TupleValue:
                foreach (var x in (IReadOnlyList<object?>)container)
                    if (PyEquals(x, item)) return true;
                return false;
            default: throw new TemplateError($"argument of type '{TypeName(container)}' is not iterable");
        }
    }

    /// <summary>Builds a str from code points [start, stop) with a step, as Python slicing does.</summary>
    public static string SliceString(List<string> cps, IEnumerable<int> indices)
    {
        var sb = new StringBuilder();
        foreach (int i in indices) sb.Append(cps[i]);
        return sb.ToString();
    }
}
