using System.Text;

namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Executes a parsed template (statements here; expressions in ExpressionEvaluator.cs). Output goes to a
/// StringBuilder; break/continue travel back up as a <see cref="Flow"/> value.
/// </summary>
internal sealed partial class Interpreter
{
    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    private readonly SourceText _source;
    private int _loopDepth;

    private Interpreter(SourceText source) => _source = source;

    public static string Render(IReadOnlyList<Stmt> body, SourceText source, Scope scope)
    {
        var interpreter = new Interpreter(source);
        var output = new StringBuilder();
        try
        {
            interpreter.Exec(body, scope, output);
        }
        catch (TemplateError e)
        {
            (int Line, int Column)? at = e.Position is int p ? source.Locate(p) : null;
            if (e.Raised) throw new ChatTemplateRaisedException(e.Message, at?.Line, at?.Column);
            throw new ChatTemplateRenderException(e.Message, at?.Line, at?.Column);
        }
        return output.ToString();
    }

    private Flow Exec(IReadOnlyList<Stmt> body, Scope scope, StringBuilder output)
    {
        foreach (var stmt in body)
        {
            var flow = Exec(stmt, scope, output);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow Exec(Stmt stmt, Scope scope, StringBuilder output)
    {
        switch (stmt)
        {
            case TextStmt t:
                output.Append(t.Text);
                return Flow.Normal;
            case PrintStmt p:
                output.Append(Values.ToStr(Eval(p.Value, scope)));
                return Flow.Normal;
            case IfStmt s:
                foreach (var (test, branch) in s.Branches)
                    if (Values.Truthy(Eval(test, scope))) return Exec(branch, scope, output);
                return Exec(s.Else, scope, output);
            case ForStmt f:
                return ExecFor(f, scope, output);
            case SetStmt s:
                Assign(s.Target, Eval(s.Value, scope), scope);
                return Flow.Normal;
            case SetBlockStmt s:
                string captured = Capture(s.Body, new Scope(scope));
                Assign(s.Target, s.Filter is null ? captured : EvalFilter(s.Filter, scope, captured), scope);
                return Flow.Normal;
            case MacroStmt m:
                scope.Set(m.Name, MakeMacro(m.Name, m.Params, m.Body, scope, m.Position));
                return Flow.Normal;
            case CallBlockStmt c:
                var caller = MakeMacro("caller", c.CallerParams, c.Body, scope, c.Position);
                var function = Eval(c.Call.Function, scope);
                var args = EvalArgs(c.Call.Args, scope);
                var keywords = args.Keywords.Append(new KeyValuePair<string, object?>("caller", caller)).ToList();
                output.Append(Values.ToStr(Call(function, new Arguments(args.Positional, keywords), c.Position)));
                return Flow.Normal;
            case FilterBlockStmt fb:
                output.Append(Values.ToStr(EvalFilter(fb.Filter, scope, Capture(fb.Body, new Scope(scope)))));
                return Flow.Normal;
            case WithStmt w:
                var inner = new Scope(scope);
                foreach (var (target, value) in w.Assignments) Assign(target, Eval(value, scope), inner);
                return Exec(w.Body, inner, output);
            case GenerationStmt g:
                return Exec(g.Body, new Scope(scope), output);
            case BreakStmt:
                return Flow.Break;
            case ContinueStmt:
                return Flow.Continue;
            default:
                throw new InvalidOperationException($"unhandled statement {stmt.GetType().Name}");
        }
    }

    private Flow ExecFor(ForStmt f, Scope scope, StringBuilder output)
    {
        var source = Eval(f.Iterable, scope);
        IReadOnlyList<object?> items;
        try
        {
            items = Values.Iterate(source);
        }
        catch (TemplateError e) when (e.Position is null)
        {
            e.Position = f.Iterable.Position;
            throw;
        }
        if (f.Filter is not null)
        {
            var kept = new List<object?>();
            foreach (var item in items)
            {
                var probe = new Scope(scope);
                Assign(f.Target, item, probe);
                if (Values.Truthy(Eval(f.Filter, probe))) kept.Add(item);
            }
            items = kept;
        }
        if (items.Count == 0) return Exec(f.Else, new Scope(scope), output);
        int depth0 = _loopDepth++;
        try
        {
            for (int i = 0; i < items.Count; i++)
            {
                var iteration = new Scope(scope);
                iteration.Set("loop", new LoopContext(items, i, depth0));
                Assign(f.Target, items[i], iteration);
                if (Exec(f.Body, iteration, output) == Flow.Break) break;
            }
        }
        finally
        {
            _loopDepth--;
        }
        return Flow.Normal;
    }

    private string Capture(IReadOnlyList<Stmt> body, Scope scope)
    {
        var sb = new StringBuilder();
        Exec(body, scope, sb);
        return sb.ToString();
    }

    private void Assign(Target target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameTarget n:
                scope.Set(n.Name, value);
                break;
            case NamespaceTarget ns:
                if (!scope.TryGet(ns.Namespace, out var holder) || holder is not Namespace space)
                    throw new TemplateError("cannot assign attribute on non-namespace object") { Position = ns.Position };
                space.Attributes[ns.Attribute] = value;
                break;
            case TupleTarget t:
                List<object?> values;
                try
                {
                    values = Values.Iterate(value).ToList();
                }
                catch (TemplateError e) when (e.Position is null)
                {
                    e.Position = t.Position;
                    throw;
                }
                if (values.Count != t.Items.Count)
                    throw new TemplateError(values.Count > t.Items.Count
                        ? $"too many values to unpack (expected {t.Items.Count})"
                        : $"not enough values to unpack (expected {t.Items.Count}, got {values.Count})") { Position = t.Position };
                for (int i = 0; i < values.Count; i++) Assign(t.Items[i], values[i], scope);
                break;
        }
    }

    /// <summary>A macro (or a call block's caller): renders its body in a fresh frame under the defining scope.</summary>
    private Callable MakeMacro(string name, IReadOnlyList<MacroParam> parameters, IReadOnlyList<Stmt> body, Scope definingScope, int position) =>
        new(name, args =>
        {
            var frame = new Scope(definingScope);
            if (args.Positional.Count > parameters.Count)
                throw new TemplateError($"macro '{name}' takes not more than {parameters.Count} argument(s)");
            for (int i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                object? value;
                if (args.Has(i, p.Name)) value = args.Get(i, p.Name);
                else if (p.Default is not null) value = Eval(p.Default, frame);
                else value = Undefined.WithHint($"parameter '{p.Name}' was not provided");
                frame.Set(p.Name, value);
            }
            foreach (var kv in args.Keywords)
            {
                if (kv.Key == "caller") frame.Set("caller", kv.Value);
                else if (!parameters.Any(p => p.Name == kv.Key))
                    throw new TemplateError($"macro '{name}' takes no keyword argument '{kv.Key}'");
            }
            int savedDepth = _loopDepth;
            _loopDepth = 0;
            try
            {
                return Capture(body, frame);
            }
            finally
            {
                _loopDepth = savedDepth;
            }
        });
}
