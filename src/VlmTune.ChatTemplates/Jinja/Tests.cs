namespace VlmTune.ChatTemplates.Jinja;

/// <summary>jinja2's tests (<c>x is defined</c>, <c>x is string</c>, <c>x is equalto 3</c>, ...).</summary>
internal static class Tests
{
    private static readonly HashSet<string> Known =
    [
        "defined", "undefined", "none", "boolean", "true", "false", "integer", "float", "number", "string", "mapping",
        "sequence", "iterable", "callable", "sameas", "escaped", "lower", "upper", "odd", "even", "divisibleby", "in",
        "equalto", "eq", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=",
        "filter", "test",
    ];

    public static bool IsKnown(string name) => Known.Contains(name);

    public static bool Apply(string name, object? v, Arguments a)
    {
        object? Arg() => a.Positional.Count > 0 ? a.Positional[0] : throw new TemplateError($"test '{name}' needs an argument");
        return name switch
        {
            "defined" => v is not Undefined,
            "undefined" => v is Undefined,
            "none" => v is null,
            "boolean" => v is bool,
            "true" => v is true,
            "false" => v is false,
            "integer" => v is long,
            "float" => v is double,
            "number" => Values.IsNumber(v),
            "string" => v is string,
            "mapping" => v is JinjaDict,
            "sequence" => v is string or List<object?> or TupleValue or JinjaDict or Undefined,
            "iterable" => v is string or List<object?> or TupleValue or JinjaDict or Undefined,
            "callable" => v is Callable,
            "sameas" => SameAs(v, Arg()),
            "escaped" => false,
            "lower" => Values.ToStr(v) is var s && s.Any(char.IsLower) && !s.Any(char.IsUpper),
            "upper" => Values.ToStr(v) is var u && u.Any(char.IsUpper) && !u.Any(char.IsLower),
            "odd" => Values.ToLong(v) % 2 != 0,
            "even" => Values.ToLong(v) % 2 == 0,
            "divisibleby" => Values.ToLong(v) % Values.ToLong(Arg()) == 0,
            "in" => Values.Contains(Arg(), v),
            "equalto" or "eq" or "==" => Ops.Compare("==", v, Arg()),
            "ne" or "!=" => Ops.Compare("!=", v, Arg()),
            "lt" or "lessthan" or "<" => Ops.Compare("<", v, Arg()),
            "le" or "<=" => Ops.Compare("<=", v, Arg()),
            "gt" or "greaterthan" or ">" => Ops.Compare(">", v, Arg()),
            "ge" or ">=" => Ops.Compare(">=", v, Arg()),
            "filter" => v is string f && Filters.IsKnown(f),
            "test" => v is string t && IsKnown(t),
            _ => throw new TemplateError($"no test named '{name}'"),
        };
    }

    /// <summary>Python "is": None/True/False and small values compare by value, containers by reference.</summary>
    private static bool SameAs(object? a, object? b) => a switch
    {
        null => b is null,
        bool x => b is bool y && x == y,
        long x => b is long y && x == y,
        string x => b is string y && x == y,
        _ => ReferenceEquals(a, b),
    };
}
