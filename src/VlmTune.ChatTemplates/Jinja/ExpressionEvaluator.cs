namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Expression evaluation. Every runtime error raised while evaluating an expression is stamped with the position of
/// the innermost expression that failed, so messages point at the right place in the template.
/// </summary>
internal sealed partial class Interpreter
{
    private object? Eval(Expr e, Scope scope)
    {
        try
        {
            return EvalCore(e, scope);
        }
        catch (TemplateError err) when (err.Position is null)
        {
            err.Position = e.Position;
            throw;
        }
        catch (OverflowException)
        {
            throw new TemplateError("arithmetic overflow (values beyond 64 bits are not supported)") { Position = e.Position };
        }
    }

    private object? EvalCore(Expr e, Scope scope)
    {
        switch (e)
        {
            case ConstExpr c: return c.Value;
            case NameExpr n: return scope.TryGet(n.Name, out var v) ? v : Undefined.Variable(n.Name);
            case ListExpr l: return l.Items.Select(x => Eval(x, scope)).ToList();
            case TupleExpr t: return new TupleValue(t.Items.Select(x => Eval(x, scope)).ToArray());
            case DictExpr d:
                var dict = new JinjaDict();
                foreach (var (key, value) in d.Pairs) dict.Set(Eval(key, scope), Eval(value, scope));
                return dict;
            case GetAttrExpr g: return Members.GetAttr(Eval(g.Target, scope), g.Name);
            case GetItemExpr g:
                var target = Eval(g.Target, scope);
                if (g.Index is SliceExpr s)
                {
                    return Members.Slice(target, EvalOptional(s.Start, scope), EvalOptional(s.Stop, scope), EvalOptional(s.Step, scope));
                }
                return Members.GetItem(target, Eval(g.Index, scope));
            case SliceExpr:
                throw new TemplateError("a slice is only valid inside [ ]");
            case CallExpr c: return Call(Eval(c.Function, scope), EvalArgs(c.Args, scope), c.Position);
            case FilterExpr f: return EvalFilter(f, scope, null);
            case TestExpr t: return Tests.Apply(t.Name, Eval(t.Target, scope), EvalArgs(t.Args, scope));
            case UnaryExpr u: return Ops.Negate(Eval(u.Operand, scope), u.Op == "-");
            case BinaryExpr b: return Ops.Binary(b.Op, Eval(b.Left, scope), Eval(b.Right, scope));
            case ConcatExpr c: return string.Concat(c.Parts.Select(p => Values.ToStr(Eval(p, scope))));
            case AndExpr a:
                var left = Eval(a.Left, scope);
                return Values.Truthy(left) ? Eval(a.Right, scope) : left;
            case OrExpr o:
                var first = Eval(o.Left, scope);
                return Values.Truthy(first) ? first : Eval(o.Right, scope);
            case NotExpr n: return !Values.Truthy(Eval(n.Operand, scope));
            case CompareExpr c:
                var current = Eval(c.First, scope);
                foreach (var (op, operandExpr) in c.Rest)
                {
                    var operand = Eval(operandExpr, scope);
                    if (!Ops.Compare(op, current, operand)) return false;
                    current = operand;
                }
                return true;
            case CondExpr c:
                if (Values.Truthy(Eval(c.Test, scope))) return Eval(c.Then, scope);
                if (c.Otherwise is not null) return Eval(c.Otherwise, scope);
                return Undefined.WithHint($"the inline if-expression on line {_source.Locate(c.Position).Line} evaluated to false and no else section was defined.");
            default:
                throw new InvalidOperationException($"unhandled expression {e.GetType().Name}");
        }
    }

    private object? EvalOptional(Expr? e, Scope scope) => e is null ? null : Eval(e, scope);

    private Arguments EvalArgs(CallArgs args, Scope scope)
    {
        if (args.Positional.Count == 0 && args.Keywords.Count == 0) return Arguments.None;
        var positional = args.Positional.Select(x => Eval(x, scope)).ToList();
        var keywords = args.Keywords.Select(k => new KeyValuePair<string, object?>(k.Name, Eval(k.Value, scope))).ToList();
        return new Arguments(positional, keywords);
    }

    /// <summary>Evaluates a filter chain; the innermost filter with no target receives <paramref name="blockValue"/>.</summary>
    private object? EvalFilter(FilterExpr f, Scope scope, object? blockValue)
    {
        object? input = f.Target switch
        {
            null => blockValue,
            FilterExpr inner => EvalFilter(inner, scope, blockValue),
            var t => Eval(t, scope),
        };
        var args = EvalArgs(f.Args, scope);
        try
        {
            return Filters.Apply(f.Name, input, args);
        }
        catch (TemplateError err) when (err.Position is null)
        {
            err.Position = f.Position;
            throw;
        }
    }

    private static object? Call(object? function, Arguments args, int position)
    {
        try
        {
            return function switch
            {
                Callable c => c.Invoke(args),
                Undefined u => throw u.Fail(),
                _ => throw new TemplateError($"'{Values.TypeName(function)}' object is not callable"),
            };
        }
        catch (TemplateError err) when (err.Position is null)
        {
            err.Position = position;
            throw;
        }
    }
}
