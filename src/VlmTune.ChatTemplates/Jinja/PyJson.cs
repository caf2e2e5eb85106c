using System.Globalization;
using System.Text;

namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// The tojson filter as transformers installs it: Python's <c>json.dumps(x, ensure_ascii=False, indent=None,
/// separators=None, sort_keys=False)</c> — no HTML escaping (unlike jinja's own tojson), keys in insertion order,
/// ", " and ": " separators (or "," and ": " with an indent), floats as Python's repr, NaN/Infinity as bare words.
/// </summary>
internal static class PyJson
{
    public static string Dumps(object? value, Arguments a)
    {
        bool ensureAscii = Values.Truthy(a.Get(0, "ensure_ascii", false));
        object? indentValue = a.Get(1, "indent");
        string? indent = indentValue switch
        {
            null => null,
            string s => s,
            bool or long => new string(' ', (int)Math.Max(0, Values.ToLong(indentValue))),
            _ => throw new TemplateError("tojson indent must be an int or a str"),
        };
        string itemSeparator = indent is null ? ", " : ",", keySeparator = ": ";
        if (a.Get(2, "separators") is { } separators)
        {
            var pair = Values.Iterate(separators);
            if (pair.Count != 2 || pair[0] is not string i || pair[1] is not string k)
                throw new TemplateError("tojson separators must be a pair of strings");
            (itemSeparator, keySeparator) = (i, k);
        }
        var writer = new Writer(ensureAscii, indent, itemSeparator, keySeparator, Values.Truthy(a.Get(3, "sort_keys", false)));
        writer.Write(value, 0);
        return writer.ToString();
    }

    private sealed class Writer(bool ensureAscii, string? indent, string itemSeparator, string keySeparator, bool sortKeys)
    {
        private readonly StringBuilder _sb = new();

        public override string ToString() => _sb.ToString();

        public void Write(object? v, int depth)
        {
            switch (v)
            {
                case null: _sb.Append("null"); break;
                case bool b: _sb.Append(b ? "true" : "false"); break;
                case long l: _sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
                case double d:
                    _sb.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyFloat.Repr(d));
                    break;
                case string s: WriteString(s); break;
                case List<object?> or TupleValue: WriteArray((IReadOnlyList<object?>)v, depth); break;
                case JinjaDict dict: WriteObject(dict, depth); break;
                default: throw new TemplateError($"Object of type {Values.TypeName(v)} is not JSON serializable");
            }
        }

        private void WriteArray(IReadOnlyList<object?> items, int depth)
        {
            if (items.Count == 0)
            {
                _sb.Append("[]");
                return;
            }
            _sb.Append('[');
            for (int i = 0; i < items.Count; i++)
            {
                _sb.Append(i == 0 ? "" : itemSeparator);
                NewLine(depth + 1);
                Write(items[i], depth + 1);
            }
            NewLine(depth);
            _sb.Append(']');
        }

        private void WriteObject(JinjaDict dict, int depth)
        {
            if (dict.Count == 0)
            {
                _sb.Append("{}");
                return;
            }
            IEnumerable<KeyValuePair<object?, object?>> entries = dict.Entries;
            if (sortKeys)
            {
                var list = dict.Entries.ToList();
                list.Sort((p, q) => Values.Compare(p.Key, q.Key, "<"));
                entries = list;
            }
            _sb.Append('{');
            bool first = true;
            foreach (var e in entries)
            {
                _sb.Append(first ? "" : itemSeparator);
                first = false;
                NewLine(depth + 1);
                WriteString(KeyText(e.Key));
                _sb.Append(keySeparator);
                Write(e.Value, depth + 1);
            }
            NewLine(depth);
            _sb.Append('}');
        }

        private static string KeyText(object? key) => key switch
        {
            string s => s,
            null => "null",
            bool b => b ? "true" : "false",
            long l => l.ToString(CultureInfo.InvariantCulture),
            double d => double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : PyFloat.Repr(d),
            _ => throw new TemplateError($"keys must be str, int, float, bool or None, not {Values.TypeName(key)}"),
        };

        private void NewLine(int depth)
        {
            if (indent is null) return;
            _sb.Append('\n');
            for (int i = 0; i < depth; i++) _sb.Append(indent);
        }

        private void WriteString(string s)
        {
            _sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': _sb.Append("\\\""); break;
                    case '\\': _sb.Append("\\\\"); break;
                    case '\n': _sb.Append("\\n"); break;
                    case '\r': _sb.Append("\\r"); break;
                    case '\t': _sb.Append("\\t"); break;
                    case '\b': _sb.Append("\\b"); break;
                    case '\f': _sb.Append("\\f"); break;
                    default:
                        if (c < 0x20 || (ensureAscii && c > 0x7e)) _sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else _sb.Append(c);
                        break;
                }
            }
            _sb.Append('"');
        }
    }
}
