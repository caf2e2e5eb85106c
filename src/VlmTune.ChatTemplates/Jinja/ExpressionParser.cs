namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Expression half of the parser. Precedence, loosest first (as jinja2's parser.py):
/// <c>x if c else y</c> → or → and → not → comparisons / in / not in → + - → ~ → * / // % → ** →
/// unary - + → primary with postfix (.attr, [item], call) → filters "|f" and tests "is t".
/// Filters bind tighter than arithmetic: <c>a | trim + 'x'</c> is <c>(a|trim) + 'x'</c>.
/// </summary>
internal sealed partial class Parser
{
    private static readonly HashSet<string> CompareOps = ["==", "!=", "<", "<=", ">", ">="];

    private bool IsTupleEnd(string? extraEnd) =>
        Current.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd || Current.IsOp(")")
        || (extraEnd is not null && Current.IsName(extraEnd));

    private Expr ParseTuple(bool withCondexpr, string? extraEnd = null, bool explicitParens = false)
    {
        int position = Current.Position;
        var items = new List<Expr>();
        bool isTuple = false;
        while (true)
        {
            if (items.Count > 0) Expect(TokenKind.Operator, ",");
            if (IsTupleEnd(extraEnd)) break;
            items.Add(withCondexpr ? ParseExpression() : ParseOr());
            if (Current.IsOp(",")) isTuple = true;
            else break;
        }
        if (!isTuple)
        {
            if (items.Count > 0) return items[0];
            if (!explicitParens) throw Error($"expected an expression, got {Current.Describe()}", Current.Position);
        }
        return new TupleExpr(items, position);
    }

    private Expr ParseExpression()
    {
        int position = Current.Position;
        var expr = ParseOr();
        while (SkipName("if"))
        {
            var test = ParseOr();
            Expr? otherwise = SkipName("else") ? ParseExpression() : null;
            expr = new CondExpr(test, expr, otherwise, position);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            int position = Next().Position;
            left = new OrExpr(left, ParseAnd(), position);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            int position = Next().Position;
            left = new AndExpr(left, ParseNot(), position);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (!Current.IsName("not")) return ParseCompare();
        int position = Next().Position;
        return new NotExpr(ParseNot(), position);
    }

    private Expr ParseCompare()
    {
        int position = Current.Position;
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && CompareOps.Contains(Current.Text))
                rest.Add((Next().Text, ParseMath1()));
            else if (SkipName("in"))
                rest.Add(("in", ParseMath1()));
            else if (Current.IsName("not") && Look.IsName("in"))
            {
                _i += 2;
                rest.Add(("notin", ParseMath1()));
            }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest, position);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOp("+") || Current.IsOp("-"))
        {
            var op = Next();
            left = new BinaryExpr(op.Text, left, ParseConcat(), left.Position);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        int position = Current.Position;
        var parts = new List<Expr> { ParseMath2() };
        while (SkipOp("~")) parts.Add(ParseMath2());
        return parts.Count == 1 ? parts[0] : new ConcatExpr(parts, position);
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Text is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new BinaryExpr(op.Text, left, ParsePow(), left.Position);
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOp("**"))
        {
            var op = Next();
            left = new BinaryExpr("**", left, ParseUnary(withFilter: true), left.Position);
        }
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        Expr node;
        if (Current.IsOp("-") || Current.IsOp("+"))
        {
            var op = Next();
            node = new UnaryExpr(op.Text, ParseUnary(withFilter: false), op.Position);
        }
        else node = ParsePrimary();
        node = ParsePostfix(node);
        return withFilter ? ParseFilterExpr(node) : node;
    }

    private Expr ParsePrimary()
    {
        var t = Current;
        switch (t.Kind)
        {
            case TokenKind.Name:
                _i++;
                return t.Text switch
                {
                    "true" or "True" => new ConstExpr(true, t.Position),
                    "false" or "False" => new ConstExpr(false, t.Position),
                    "none" or "None" => new ConstExpr(null, t.Position),
                    _ => new NameExpr(t.Text, t.Position),
                };
            case TokenKind.String:
                _i++;
                string text = (string)t.Value!;
                while (Current.Kind == TokenKind.String) text += (string)Next().Value!;
                return new ConstExpr(text, t.Position);
            case TokenKind.Integer or TokenKind.Float:
                _i++;
                return new ConstExpr(t.Value, t.Position);
            case TokenKind.Operator when t.Text == "(":
                _i++;
                var inner = ParseTuple(withCondexpr: true, explicitParens: true);
                Expect(TokenKind.Operator, ")");
                return inner;
            case TokenKind.Operator when t.Text == "[":
                _i++;
                var items = new List<Expr>();
                while (!Current.IsOp("]"))
                {
                    if (items.Count > 0) Expect(TokenKind.Operator, ",");
                    if (Current.IsOp("]")) break;
                    items.Add(ParseExpression());
                }
                Expect(TokenKind.Operator, "]");
                return new ListExpr(items, t.Position);
            case TokenKind.Operator when t.Text == "{":
                _i++;
                var pairs = new List<(Expr, Expr)>();
                while (!Current.IsOp("}"))
                {
                    if (pairs.Count > 0) Expect(TokenKind.Operator, ",");
                    if (Current.IsOp("}")) break;
                    var key = ParseExpression();
                    Expect(TokenKind.Operator, ":");
                    pairs.Add((key, ParseExpression()));
                }
                Expect(TokenKind.Operator, "}");
                return new DictExpr(pairs, t.Position);
            default:
                throw Error($"unexpected {t.Describe()}", t.Position);
        }
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            if (Current.IsOp(".") || Current.IsOp("[")) node = ParseSubscript(node);
            else if (Current.IsOp("(")) node = new CallExpr(node, ParseCallArgs(), node.Position);
            else return node;
        }
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            if (Current.IsOp("|")) node = ParseFilter(node, startInline: false)!;
            else if (Current.IsName("is")) node = ParseTest(node);
            else if (Current.IsOp("(")) node = new CallExpr(node, ParseCallArgs(), node.Position);
            else return node;
        }
    }

    private Expr ParseSubscript(Expr node)
    {
        var t = Next();
        if (t.Text == ".")
        {
            var attr = Next();
            if (attr.Kind == TokenKind.Name) return new GetAttrExpr(node, attr.Text, attr.Position);
            if (attr.Kind != TokenKind.Integer) throw Error($"expected name or number after '.', got {attr.Describe()}", attr.Position);
            return new GetItemExpr(node, new ConstExpr(attr.Value, attr.Position), attr.Position);
        }
        var args = new List<Expr>();
        while (!Current.IsOp("]"))
        {
            if (args.Count > 0) Expect(TokenKind.Operator, ",");
            args.Add(ParseSubscribed());
        }
        Expect(TokenKind.Operator, "]");
        if (args.Count == 0) throw Error("expected a subscript expression", t.Position);
        var index = args.Count == 1 ? args[0] : new TupleExpr(args, t.Position);
        return new GetItemExpr(node, index, t.Position);
    }

    private Expr ParseSubscribed()
    {
        int position = Current.Position;
        Expr? start = null;
        if (!Current.IsOp(":"))
        {
            start = ParseExpression();
            if (!Current.IsOp(":")) return start;
        }
        _i++;
        Expr? stop = Current.IsOp(":") || Current.IsOp("]") || Current.IsOp(",") ? null : ParseExpression();
        Expr? step = null;
        if (SkipOp(":") && !Current.IsOp("]") && !Current.IsOp(",")) step = ParseExpression();
        return new SliceExpr(start, stop, step, position);
    }

    private CallArgs ParseCallArgs()
    {
        Expect(TokenKind.Operator, "(");
        var positional = new List<Expr>();
        var keywords = new List<(string, Expr)>();
        while (!Current.IsOp(")"))
        {
            if (positional.Count + keywords.Count > 0) Expect(TokenKind.Operator, ",");
            if (Current.IsOp(")")) break;
            if (Current.IsOp("*") || Current.IsOp("**")) throw Error("*args / **kwargs in calls are not supported", Current.Position);
            if (Current.Kind == TokenKind.Name && Look.IsOp("="))
            {
                string name = Next().Text;
                _i++;
                keywords.Add((name, ParseExpression()));
            }
            else
            {
                if (keywords.Count > 0) throw Error("positional argument follows keyword argument", Current.Position);
                positional.Add(ParseExpression());
            }
        }
        Expect(TokenKind.Operator, ")");
        return new CallArgs(positional, keywords);
    }

    /// <summary>Parses "| name(args) | name2 ..." (or, with startInline, "name(args) | ..." as in {% filter %}).</summary>
    private Expr? ParseFilter(Expr? node, bool startInline)
    {
        while (Current.IsOp("|") || startInline)
        {
            if (!startInline) _i++;
            var name = Expect(TokenKind.Name);
            if (!Filters.IsKnown(name.Text)) throw Error($"no filter named '{name.Text}'", name.Position);
            var args = Current.IsOp("(") ? ParseCallArgs() : CallArgs.Empty;
            node = new FilterExpr(node, name.Text, args, name.Position);
            startInline = false;
        }
        return node;
    }

    private Expr ParseTest(Expr node)
    {
        int position = Next().Position;
        bool negated = SkipName("not");
        var name = Expect(TokenKind.Name);
        if (!Tests.IsKnown(name.Text)) throw Error($"no test named '{name.Text}'", name.Position);
        CallArgs args;
        if (Current.IsOp("(")) args = ParseCallArgs();
        else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                  || Current.IsOp("[") || Current.IsOp("{"))
                 && !Current.IsName("else") && !Current.IsName("or") && !Current.IsName("and"))
        {
            if (Current.IsName("is")) throw Error("you cannot chain multiple tests with 'is'", Current.Position);
            args = new CallArgs([ParsePostfix(ParsePrimary())], Array.Empty<(string, Expr)>());
        }
        else args = CallArgs.Empty;
        Expr test = new TestExpr(node, name.Text, args, position);
        return negated ? new NotExpr(test, position) : test;
    }
}
