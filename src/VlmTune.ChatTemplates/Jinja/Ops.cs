namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Python arithmetic and comparison operators on template values: int arithmetic stays int (checked for 64-bit
/// overflow), "/" always gives a float, "//" and "%" floor towards negative infinity, str + str, list + list,
/// str * int. Undefined operands fail with jinja's "'x' is undefined" message; mismatched types give Python's TypeError text.
/// </summary>
internal static class Ops
{
    public static object? Binary(string op, object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
        return op switch
        {
            "+" => Add(a, b),
            "-" => Numeric(op, a, b, (x, y) => checked(x - y), (x, y) => x - y),
            "*" => Multiply(a, b),
            "/" => TrueDivide(a, b),
            "//" => FloorDivide(a, b),
            "%" => Modulo(a, b),
            "**" => Power(a, b),
            _ => throw new TemplateError($"unknown operator '{op}'"),
        };
    }

    public static object? Negate(object? v, bool negate)
    {
        if (v is Undefined u) throw u.Fail();
        return v switch
        {
            bool or long => (object)(negate ? -Values.ToLong(v) : Values.ToLong(v)),
            double d => (object)(negate ? -d : d),
            _ => throw new TemplateError($"bad operand type for unary {(negate ? "-" : "+")}: '{Values.TypeName(v)}'"),
        };
    }

    private static object? Add(object? a, object? b)
    {
        if (a is string sa)
            return b is string sb ? sa + sb : throw new TemplateError($"can only concatenate str (not \"{Values.TypeName(b)}\") to str");
        if (a is List<object?> la)
        {
            if (b is not List<object?> lb) throw new TemplateError($"can only concatenate list (not \"{Values.TypeName(b)}\") to list");
            var result = new List<object?>(la.Count + lb.Count);
            result.AddRange(la);
            result.AddRange(lb);
            return result;
        }
        if (a is TupleValue ta)
        {
            if (b is not TupleValue tb) throw new TemplateError($"can only concatenate tuple (not \"{Values.TypeName(b)}\") to tuple");
            return new TupleValue(ta.Concat(tb).ToArray());
        }
        return Numeric("+", a, b, (x, y) => checked(x + y), (x, y) => x + y);
    }

    private static object? Multiply(object? a, object? b)
    {
        if (a is string s && b is bool or long) return Repeat(s, Values.ToLong(b));
        if (b is string s2 && a is bool or long) return Repeat(s2, Values.ToLong(a));
        if (a is List<object?> l && b is bool or long)
        {
            var result = new List<object?>();
            for (long i = 0; i < Values.ToLong(b); i++) result.AddRange(l);
            return result;
        }
        return Numeric("*", a, b, (x, y) => checked(x * y), (x, y) => x * y);
    }

    private static string Repeat(string s, long n) => n <= 0 ? "" : string.Concat(Enumerable.Repeat(s, checked((int)n)));

    private static object? TrueDivide(object? a, object? b)
    {
        RequireNumbers("/", a, b);
        double y = Values.ToDouble(b);
        if (y == 0) throw new TemplateError("division by zero");
        return Values.ToDouble(a) / y;
    }

    private static object? FloorDivide(object? a, object? b)
    {
        RequireNumbers("//", a, b);
        if (a is not double && b is not double)
        {
            long x = Values.ToLong(a), y = Values.ToLong(b);
            if (y == 0) throw new TemplateError("integer division or modulo by zero");
            long q = x / y;
            return (x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q;
        }
        double dy = Values.ToDouble(b);
        if (dy == 0) throw new TemplateError("float floor division by zero");
        return Math.Floor(Values.ToDouble(a) / dy);
    }

    private static object? Modulo(object? a, object? b)
    {
        if (a is string) throw new TemplateError("printf-style string formatting with '%' is not supported; use the format filter");
        RequireNumbers("%", a, b);
        if (a is not double && b is not double)
        {
            long x = Values.ToLong(a), y = Values.ToLong(b);
            if (y == 0) throw new TemplateError("integer division or modulo by zero");
            long r = x % y;
            return (r != 0 && (r < 0) != (y < 0)) ? r + y : r;
        }
        double dx = Values.ToDouble(a), dy = Values.ToDouble(b);
        if (dy == 0) throw new TemplateError("float modulo");
        double m = dx % dy;
        return (m != 0 && (m < 0) != (dy < 0)) ? m + dy : m;
    }

    private static object? Power(object? a, object? b)
    {
        RequireNumbers("**", a, b);
        if (a is not double && b is not double && Values.ToLong(b) >= 0)
        {
            long result = 1, x = Values.ToLong(a);
            if (x is 0 or 1) return Values.ToLong(b) == 0 ? 1L : x;
            if (Values.ToLong(b) > 64) throw new TemplateError("integer overflow in '**' (values beyond 64 bits are not supported)");
            try
            {
                for (long i = 0; i < Values.ToLong(b); i++) result = checked(result * x);
            }
            catch (OverflowException)
            {
                throw new TemplateError("integer overflow in '**' (values beyond 64 bits are not supported)");
            }
            return result;
        }
        return Math.Pow(Values.ToDouble(a), Values.ToDouble(b));
    }

    private static object? Numeric(string op, object? a, object? b, Func<long, long, long> ints, Func<double, double, double> floats)
    {
        RequireNumbers(op, a, b);
        if (a is double || b is double) return floats(Values.ToDouble(a), Values.ToDouble(b));
        try
        {
            return ints(Values.ToLong(a), Values.ToLong(b));
        }
        catch (OverflowException)
        {
            throw new TemplateError($"integer overflow in '{op}' (values beyond 64 bits are not supported)");
        }
    }

    private static void RequireNumbers(string op, object? a, object? b)
    {
        if (!Values.IsNumber(a) || !Values.IsNumber(b))
            throw new TemplateError($"unsupported operand type(s) for {op}: '{Values.TypeName(a)}' and '{Values.TypeName(b)}'");
    }

    /// <summary>One comparison of a chain: == != &lt; &lt;= &gt; &gt;= in notin.</summary>
    public static bool Compare(string op, object? a, object? b) => op switch
    {
        "==" => Values.PyEquals(a, b),
        "!=" => !Values.PyEquals(a, b),
        "<" => Values.Compare(a, b, op) < 0,
        "<=" => Values.Compare(a, b, op) <= 0,
        ">" => Values.Compare(a, b, op) > 0,
        ">=" => Values.Compare(a, b, op) >= 0,
        "in" => Values.Contains(b, a),
        "notin" => !Values.Contains(b, a),
        _ => throw new TemplateError($"unknown comparison '{op}'"),
    };
}
