using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using Xunit;
using Xunit.Sdk;

namespace VlmTune.GpuCheck;

/// <summary>One runnable test: a [Fact], or one data row of a [Theory].</summary>
public sealed record TestCase(Type Class, MethodInfo Method, object?[] Arguments, string Name, string? SkipReason, string? DiscoveryError)
{
    public string ClassName => Class.FullName ?? Class.Name;
}

/// <summary>
/// Finds xunit v2 tests by reflection, the way xunit does for what this repository uses: public classes (nested too)
/// with [Fact] / [Theory] methods (instance or static), data from every <see cref="DataAttribute"/> ([InlineData],
/// [MemberData], [ClassData]: each attribute's own <c>GetData</c>), Skip on the fact or on a data row. Names are
/// <c>Namespace.Class.Method</c> or <c>Namespace.Class.Method(p: value, ...)</c>, as xunit displays them.
/// </summary>
public static class TestDiscovery
{
    public static List<TestCase> Discover(Assembly assembly)
    {
        var cases = new List<TestCase>();
        var types = assembly.GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && !t.ContainsGenericParameters && IsVisible(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);
        foreach (var type in types)
        {
            var methods = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
                .Select(m => (m, fact: m.GetCustomAttribute<FactAttribute>(inherit: true)))
                .Where(x => x.fact != null)
                .OrderBy(x => x.m.DeclaringType == type ? 1 : 0).ThenBy(x => x.m.MetadataToken);
            foreach (var (method, fact) in methods)
                cases.AddRange(Expand(type, method, fact!));
        }
        return cases;
    }

    static bool IsVisible(Type t) => t.IsPublic || (t.IsNestedPublic && t.DeclaringType != null && IsVisible(t.DeclaringType));

    static IEnumerable<TestCase> Expand(Type type, MethodInfo method, FactAttribute fact)
    {
        string baseName = $"{type.FullName}.{method.Name}";
        if (fact.Skip != null)
        {
            yield return new TestCase(type, method, [], baseName, fact.Skip, null);
            yield break;
        }
        if (fact is not TheoryAttribute)
        {
            string? error = method.GetParameters().Length > 0 ? "a [Fact] with parameters (xunit refuses it)" : null;
            yield return new TestCase(type, method, [], baseName, null, error);
            yield break;
        }
        if (method.IsGenericMethodDefinition)
        {
            yield return new TestCase(type, method, [], baseName, null, "generic [Theory] methods are not supported by this runner");
            yield break;
        }
        var rows = new List<(object?[] Data, string? Skip)>();
        string? dataError = null;
        foreach (var data in method.GetCustomAttributes<DataAttribute>(inherit: true))
        {
            try
            {
                foreach (var row in data.GetData(method) ?? [])
                    rows.Add((row ?? [], data.Skip));
            }
            catch (Exception e)
            {
                dataError = $"{data.GetType().Name} failed: {Unwrap(e).GetType().Name}: {Unwrap(e).Message}";
            }
        }
        if (dataError != null)
        {
            yield return new TestCase(type, method, [], baseName, null, dataError);
            yield break;
        }
        if (rows.Count == 0)
        {
            yield return new TestCase(type, method, [], baseName, null, "a [Theory] with no data rows");
            yield break;
        }
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (data, skip) in rows)
        {
            string name = $"{baseName}({FormatArguments(method, data)})";
            // Two rows that display alike still run separately: number the repeats.
            if (seen.TryGetValue(name, out int n)) { seen[name] = n + 1; name += $" #{n + 1}"; }
            else seen[name] = 1;
            object?[] args;
            string? error = null;
            try { args = ArgumentBinder.Bind(data, method.GetParameters()); }
            catch (ArgumentException e) { args = data; error = e.Message; }
            yield return new TestCase(type, method, args, name, skip, error);
        }
    }

    internal static Exception Unwrap(Exception e)
    {
        while (e is TargetInvocationException { InnerException: { } inner }) e = inner;
        if (e is AggregateException { InnerExceptions.Count: 1 } agg) return Unwrap(agg.InnerExceptions[0]);
        return e;
    }

    static string FormatArguments(MethodInfo method, object?[] data)
    {
        var ps = method.GetParameters();
        var parts = new List<string>();
        for (int i = 0; i < data.Length; i++)
            parts.Add(i < ps.Length ? $"{ps[i].Name}: {Format(data[i])}" : $"???: {Format(data[i])}");
        return string.Join(", ", parts);
    }

    internal static string Format(object? value, int depth = 0)
    {
        switch (value)
        {
            case null: return "null";
            case string s: return "\"" + (s.Length > 50 ? s[..50] + "\"..." : s + "\"");
            case char c: return $"'{c}'";
            case bool b: return b ? "True" : "False";
            case float f: return f.ToString("G9", CultureInfo.InvariantCulture);
            case double d: return d.ToString("G17", CultureInfo.InvariantCulture);
            case Enum e: return e.ToString();
            case Type t: return $"typeof({t.Name})";
            case IFormattable x: return x.ToString(null, CultureInfo.InvariantCulture);
            case IEnumerable list when depth < 2:
            {
                var sb = new StringBuilder("[");
                int k = 0;
                foreach (var item in list)
                {
                    if (k > 0) sb.Append(", ");
                    if (k == 5) { sb.Append("..."); break; }
                    sb.Append(Format(item, depth + 1));
                    k++;
                }
                return sb.Append(']').ToString();
            }
            default:
            {
                string text = value.ToString() ?? value.GetType().Name;     // records print every field: keep names short
                return text.Length > 60 ? text[..59] + "…" : text;
            }
        }
    }
}

/// <summary>Data row → call arguments: optional parameters, params arrays, and xunit's implicit conversions.</summary>
public static class ArgumentBinder
{
    public static object?[] Bind(object?[] data, ParameterInfo[] ps)
    {
        var values = new List<object?>(data);
        if (ps.Length > 0 && ps[^1].GetCustomAttribute<ParamArrayAttribute>() != null)
        {
            var arrayType = ps[^1].ParameterType;
            var elementType = arrayType.GetElementType()!;
            int fixedCount = ps.Length - 1;
            bool passedAsArray = values.Count == ps.Length && (values[^1] == null || arrayType.IsInstanceOfType(values[^1]));
            if (!passedAsArray && values.Count >= fixedCount)
            {
                var rest = values.Skip(fixedCount).ToList();
                var array = Array.CreateInstance(elementType, rest.Count);
                for (int i = 0; i < rest.Count; i++) array.SetValue(Convert(rest[i], elementType), i);
                values = values.Take(fixedCount).Append(array).ToList();
            }
        }
        if (values.Count > ps.Length)
            throw new ArgumentException($"the data row has {values.Count} values for {ps.Length} parameters");
        for (int i = values.Count; i < ps.Length; i++)
        {
            if (!ps[i].IsOptional) throw new ArgumentException($"the data row has {values.Count} values; parameter '{ps[i].Name}' has no default");
            values.Add(ps[i].HasDefaultValue ? ps[i].DefaultValue : Type.Missing);
        }
        for (int i = 0; i < ps.Length; i++) values[i] = Convert(values[i], ps[i].ParameterType);
        return values.ToArray();
    }

    static object? Convert(object? value, Type target)
    {
        if (value == null || value == Type.Missing || target.IsInstanceOfType(value)) return value;
        var t = Nullable.GetUnderlyingType(target) ?? target;
        try
        {
            if (t.IsEnum)
                return value is string s ? Enum.Parse(t, s) : Enum.ToObject(t, value);
            if (value is string str)
            {
                if (t == typeof(Guid)) return Guid.Parse(str);
                if (t == typeof(DateTime)) return DateTime.Parse(str, CultureInfo.InvariantCulture);
                if (t == typeof(DateTimeOffset)) return DateTimeOffset.Parse(str, CultureInfo.InvariantCulture);
            }
            if (value is IConvertible && typeof(IConvertible).IsAssignableFrom(t))
                return System.Convert.ChangeType(value, t, CultureInfo.InvariantCulture);
            if (t.IsArray && value is Array source)
            {
                var element = t.GetElementType()!;
                var array = Array.CreateInstance(element, source.Length);
                for (int i = 0; i < source.Length; i++) array.SetValue(Convert(source.GetValue(i), element), i);
                return array;
            }
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or ArgumentException)
        {
            throw new ArgumentException($"cannot convert {TestDiscovery.Format(value)} ({value.GetType().Name}) to {target.Name}: {e.Message}");
        }
        return value;     // let the call report the mismatch
    }
}
