namespace VlmTune.ChatTemplates.Jinja;

/// <summary>Collection filters: list, items, map, select/reject(attr), sort, dictsort, unique, min, max, sum, reverse.</summary>
internal static partial class Filters
{
    private static object? ApplyCollection(string name, object? value, Arguments a) => name switch
    {
        "list" => Values.Iterate(value).ToList(),
        "items" => value switch
        {
            Undefined => new List<object?>(),
            JinjaDict d => d.Entries.Select(e => (object?)new TupleValue([e.Key, e.Value])).ToList(),
            _ => throw new TemplateError("Can only get item pairs from a mapping."),
        },
        "map" => Map(value, a),
        "select" or "reject" => SelectOrReject(value, a, 0, null, name == "select"),
        "selectattr" or "rejectattr" => SelectOrReject(value, a, 1, a.Get(0, "attribute"), name == "selectattr"),
        "sort" => Sort(Values.Iterate(value), Values.Truthy(a.Get(0, "reverse", false)), Values.Truthy(a.Get(1, "case_sensitive", false)), a.Get(2, "attribute")),
        "dictsort" => DictSort(value, a),
        "unique" => Unique(value, Values.Truthy(a.Get(0, "case_sensitive", false)), a.Get(1, "attribute")),
        "min" or "max" => MinMax(value, name == "max", Values.Truthy(a.Get(0, "case_sensitive", false)), a.Get(1, "attribute")),
        "sum" => Sum(value, a.Get(0, "attribute"), a.Get(1, "start", 0L)),
        "reverse" => value is string s
            ? string.Concat(PyStrings.CodePoints(s).AsEnumerable().Reverse())
            : Values.Iterate(value).Reverse().ToList(),
        _ => throw new TemplateError($"no filter named '{name}'"),
    };

    /// <summary>jinja's make_attrgetter: "a.b.0" looks up each dotted part with item semantics (digits become ints).</summary>
    private static object? AttributeGetter(object? item, object? attribute)
    {
        if (attribute is bool or long) return Members.GetItem(item, attribute);
        foreach (string part in Values.ToStr(attribute).Split('.'))
            item = Members.GetItem(item, long.TryParse(part, out long index) ? index : part);
        return item;
    }

    private static List<object?> Map(object? value, Arguments a)
    {
        var items = Values.Iterate(value);
        if (a.Positional.Count == 0 && a.Has(-1, "attribute"))
        {
            var attribute = a.Get(-1, "attribute");
            bool hasDefault = a.Has(-1, "default");
            return items.Select(x =>
            {
                var v = AttributeGetter(x, attribute);
                return hasDefault && v is Undefined ? a.Get(-1, "default") : v;
            }).ToList();
        }
        if (a.Positional.Count == 0) throw new TemplateError("map requires a filter name or attribute=");
        string filter = Values.ToStr(a.Positional[0]);
        if (!IsKnown(filter)) throw new TemplateError($"no filter named '{filter}'");
        var rest = new Arguments(a.Positional.Skip(1).ToList(), a.Keywords);
        return items.Select(x => Apply(filter, x, rest)).ToList();
    }

    private static List<object?> SelectOrReject(object? value, Arguments a, int testIndex, object? attribute, bool keep)
    {
        Func<object?, bool> test;
        if (a.Positional.Count <= testIndex) test = Values.Truthy;
        else
        {
            string testName = Values.ToStr(a.Positional[testIndex]);
            if (!Tests.IsKnown(testName)) throw new TemplateError($"no test named '{testName}'");
            var rest = new Arguments(a.Positional.Skip(testIndex + 1).ToList(), a.Keywords);
            test = x => Tests.Apply(testName, x, rest);
        }
        return Values.Iterate(value)
            .Where(x => test(attribute is null ? x : AttributeGetter(x, attribute)) == keep)
            .ToList();
    }

    private static object? SortKey(object? x, bool caseSensitive, object? attribute)
    {
        if (attribute is not null) x = AttributeGetter(x, attribute);
        return !caseSensitive && x is string s ? PyStrings.Lower(s) : x;
    }

    private static List<object?> Sort(IReadOnlyList<object?> items, bool reverse, bool caseSensitive, object? attribute)
    {
        var keyed = items.Select((x, i) => (Key: SortKey(x, caseSensitive, attribute), Item: x, Index: i)).ToList();
        // Stable sort, as Python's; reverse keeps equal items in their original order, as sorted(reverse=True) does.
        keyed.Sort((p, q) =>
        {
            int c = Values.Compare(p.Key, q.Key, "<");
            if (reverse) c = -c;
            return c != 0 ? c : p.Index.CompareTo(q.Index);
        });
        return keyed.Select(k => k.Item).ToList();
    }

    private static List<object?> DictSort(object? value, Arguments a)
    {
        if (value is not JinjaDict d) throw new TemplateError("dictsort requires a mapping");
        bool caseSensitive = Values.Truthy(a.Get(0, "case_sensitive", false));
        string by = Values.ToStr(a.Get(1, "by", "key"));
        bool reverse = Values.Truthy(a.Get(2, "reverse", false));
        int position = by switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw new TemplateError("You can only sort by either \"key\" or \"value\""),
        };
        var pairs = d.Entries.Select(e => (object?)new TupleValue([e.Key, e.Value])).ToList();
        return Sort(pairs, reverse, caseSensitive, (long)position);
    }

    private static List<object?> Unique(object? value, bool caseSensitive, object? attribute)
    {
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (var x in Values.Iterate(value))
        {
            var key = SortKey(x, caseSensitive, attribute);
            if (seen.Any(s => Values.PyEquals(s, key))) continue;
            seen.Add(key);
            result.Add(x);
        }
        return result;
    }

    private static object? MinMax(object? value, bool max, bool caseSensitive, object? attribute)
    {
        var items = Values.Iterate(value);
        if (items.Count == 0) return Undefined.WithHint($"No aggregated item, sequence was empty.");
        object? best = items[0];
        foreach (var x in items.Skip(1))
        {
            int c = Values.Compare(SortKey(x, caseSensitive, attribute), SortKey(best, caseSensitive, attribute), "<");
            if (max ? c > 0 : c < 0) best = x;
        }
        return best;
    }

    private static object? Sum(object? value, object? attribute, object? start)
    {
        object? total = start;
        foreach (var x in Values.Iterate(value))
            total = Ops.Binary("+", total, attribute is null ? x : AttributeGetter(x, attribute));
        return total;
    }
}
