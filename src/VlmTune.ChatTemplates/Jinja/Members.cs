namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Attribute access (<c>x.name</c>), item access (<c>x[key]</c>) and slicing, following jinja2's sandboxed
/// getattr/getitem: <c>.name</c> tries the Python attribute (a method) first and then the dict key; <c>[key]</c> tries
/// the key first and then the attribute. Missing members give <see cref="Undefined"/>; methods that would mutate a
/// value are refused, as in transformers' ImmutableSandboxedEnvironment.
/// </summary>
internal static class Members
{
    private static readonly HashSet<string> UnsafeListMethods = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"];
    private static readonly HashSet<string> UnsafeDictMethods = ["pop", "popitem", "setdefault", "update", "clear"];

    public static object? GetAttr(object? obj, string name)
    {
        switch (obj)
        {
            case Undefined u: throw u.Fail();
            case JinjaDict d:
                if (UnsafeDictMethods.Contains(name)) return Unsafe(obj, name);
                var dictMethod = Methods.Dict(d, name);
                if (dictMethod is not null) return dictMethod;
                return d.TryGet(name, out var value) ? value : Undefined.Member(d, name);
            case string s: return Methods.String(s, name) ?? (object)Undefined.Member(s, name);
            case List<object?> or TupleValue:
                if (obj is List<object?> && UnsafeListMethods.Contains(name)) return Unsafe(obj, name);
                return Methods.Sequence((IReadOnlyList<object?>)obj, name) ?? (object)Undefined.Member(obj, name);
            case Namespace ns: return ns.Attributes.TryGetValue(name, out var attr) ? attr : Undefined.Member(ns, name);
            case LoopContext loop: return loop.GetAttribute(name);
            default: return Undefined.Member(obj, name);
        }
    }

    private static Undefined Unsafe(object obj, string name) =>
        Undefined.WithHint($"access to attribute '{name}' of '{Values.TypeName(obj)}' object is unsafe.");

    public static object? GetItem(object? obj, object? key)
    {
        switch (obj)
        {
            case Undefined u: throw u.Fail();
            case JinjaDict d:
                if (key is not (List<object?> or JinjaDict) && d.TryGet(key, out var value)) return value;
                break;
            case List<object?> or TupleValue when key is bool or long:
                var list = (IReadOnlyList<object?>)obj;
                long i = Values.ToLong(key);
                if (i < 0) i += list.Count;
                if (i >= 0 && i < list.Count) return list[(int)i];
                return Undefined.Member(obj, key);
            case string s when key is bool or long:
                var cps = PyStrings.CodePoints(s);
                long j = Values.ToLong(key);
                if (j < 0) j += cps.Count;
                if (j >= 0 && j < cps.Count) return cps[(int)j];
                return Undefined.Member(obj, key);
            case Namespace ns when key is string name:
                return ns.Attributes.TryGetValue(name, out var attr) ? attr : Undefined.Member(ns, name);
            case LoopContext loop when key is string name:
                return loop.GetAttribute(name);
        }
        if (key is string attrName)
        {
            var viaAttribute = GetAttr(obj, attrName);
            if (viaAttribute is not Undefined) return viaAttribute;
        }
        return Undefined.Member(obj, key);
    }

    /// <summary>obj[start:stop:step] with Python's clamping and negative-index rules.</summary>
    public static object? Slice(object? obj, object? start, object? stop, object? step)
    {
        if (obj is Undefined u) throw u.Fail();
        int length = obj switch
        {
            string s => PyStrings.Length(s),
            List<object?> l => l.Count,
            TupleValue t => t.Count,
            _ => throw new TemplateError($"'{Values.TypeName(obj)}' object is not subscriptable"),
        };
        var indices = SliceIndices(length, start, stop, step);
        return obj switch
        {
            string s => Values.SliceString(PyStrings.CodePoints(s), indices),
            List<object?> l => indices.Select(i => l[i]).ToList(),
            TupleValue t => new TupleValue(indices.Select(i => t[i]).ToArray()),
            _ => null,
        };
    }

    private static List<int> SliceIndices(int length, object? startValue, object? stopValue, object? stepValue)
    {
        long step = stepValue is null ? 1 : SliceInt(stepValue);
        if (step == 0) throw new TemplateError("slice step cannot be zero");
        long lower = step < 0 ? -1 : 0, upper = step < 0 ? length - 1 : length;
        long start = startValue is null ? (step < 0 ? upper : lower) : Clamp(SliceInt(startValue), length, lower, upper);
        long stop = stopValue is null ? (step < 0 ? lower : upper) : Clamp(SliceInt(stopValue), length, lower, upper);
        var result = new List<int>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) result.Add((int)i);
        return result;
    }

    private static long Clamp(long index, int length, long lower, long upper)
    {
        if (index < 0) index = Math.Max(index + length, lower);
        return Math.Min(index, upper);
    }

    private static long SliceInt(object? v) => v is bool or long
        ? Values.ToLong(v)
        : throw new TemplateError("slice indices must be integers or None");
}
