namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Recursive-descent parser for the statement level of jinja2 (the grammar of jinja2's parser.py, restricted to
/// what chat templates use): for / if / set / macro / call / filter / with / break / continue / generation.
/// Expressions live in the other half of this partial class (ExpressionParser.cs).
/// </summary>
internal sealed partial class Parser
{
    private readonly SourceText _source;
    private readonly List<Token> _tokens;
    private readonly Stack<(string Tag, string[] EndTags, int Position)> _open = new();
    private int _i;
    private int _loopDepth;

    private Parser(SourceText source)
    {
        _source = source;
        _tokens = Lexer.Tokenize(source);
    }

    public static IReadOnlyList<Stmt> Parse(SourceText source)
    {
        var parser = new Parser(source);
        var body = parser.Subparse(null, out _);
        return body;
    }

    private Token Current => _tokens[_i];

    private Token Look => _tokens[Math.Min(_i + 1, _tokens.Count - 1)];

    private Token Next() => _tokens[_i++];

    private ChatTemplateSyntaxException Error(string detail, int position) => _source.Error(detail, position);

    private Token Expect(TokenKind kind, string? text = null)
    {
        var t = Current;
        if (t.Kind != kind || (text is not null && t.Text != text))
        {
            string wanted = text is not null ? $"'{text}'" : kind switch
            {
                TokenKind.BlockEnd => "end of statement block '%}'",
                TokenKind.VariableEnd => "end of print statement '}}'",
                TokenKind.Name => "a name",
                _ => kind.ToString(),
            };
            throw Error($"expected {wanted}, got {t.Describe()}", t.Position);
        }
        _i++;
        return t;
    }

    private bool SkipName(string name)
    {
        if (!Current.IsName(name)) return false;
        _i++;
        return true;
    }

    private bool SkipOp(string op)
    {
        if (!Current.IsOp(op)) return false;
        _i++;
        return true;
    }

    /// <summary>Parses template content until one of <paramref name="endTags"/> opens a block (left current) or the end.</summary>
    private List<Stmt> Subparse(string[]? endTags, out string? endTag)
    {
        var body = new List<Stmt>();
        endTag = null;
        while (true)
        {
            var t = Current;
            switch (t.Kind)
            {
                case TokenKind.Data:
                    body.Add(new TextStmt(t.Text, t.Position));
                    _i++;
                    break;
                case TokenKind.VariableBegin:
                    _i++;
                    var value = ParseTuple(withCondexpr: true);
                    Expect(TokenKind.VariableEnd);
                    body.Add(new PrintStmt(value, t.Position));
                    break;
                case TokenKind.BlockBegin:
                    _i++;
                    if (endTags is not null && Current.Kind == TokenKind.Name && endTags.Contains(Current.Text))
                    {
                        endTag = Current.Text;
                        return body;
                    }
                    body.Add(ParseStatement());
                    Expect(TokenKind.BlockEnd);
                    break;
                case TokenKind.Eof:
                    if (endTags is not null)
                    {
                        var (tag, ends, position) = _open.Peek();
                        throw Error($"unexpected end of template: the '{tag}' block opened here was never closed (expected {Quote(ends)})", position);
                    }
                    return body;
                default:
                    throw Error($"unexpected {t.Describe()}", t.Position);
            }
        }
    }

    /// <summary>After a statement's header: "%}", then the body up to one of the end tags (the end tag name is consumed).</summary>
    private List<Stmt> ParseBody(string tag, int tagPosition, string[] endTags, out string endTag)
    {
        SkipOp(":");
        Expect(TokenKind.BlockEnd);
        _open.Push((tag, endTags, tagPosition));
        var body = Subparse(endTags, out var found);
        _open.Pop();
        endTag = found!;
        _i++;
        return body;
    }

    private List<Stmt> ParseBody(string tag, int tagPosition, string endTag) => ParseBody(tag, tagPosition, [endTag], out _);

    private static string Quote(string[] tags) => string.Join(" or ", tags.Select(t => $"'{t}'"));

    private Stmt ParseStatement()
    {
        var t = Current;
        if (t.Kind != TokenKind.Name) throw Error($"tag name expected, got {t.Describe()}", t.Position);
        switch (t.Text)
        {
            case "for": return ParseFor();
            case "if": return ParseIf();
            case "set": return ParseSet();
            case "macro": return ParseMacro();
            case "call": return ParseCallBlock();
            case "filter": return ParseFilterBlock();
            case "with": return ParseWith();
            case "generation":
                _i++;
                return new GenerationStmt(ParseBody("generation", t.Position, "endgeneration"), t.Position);
            case "break" or "continue":
                _i++;
                if (_loopDepth == 0) throw Error($"'{t.Text}' outside of a for loop", t.Position);
                return t.Text == "break" ? new BreakStmt(t.Position) : new ContinueStmt(t.Position);
            case "include" or "import" or "from" or "extends" or "block" or "autoescape":
                throw Error($"the '{t.Text}' tag is not supported in chat templates", t.Position);
        }
        string detail = $"unknown tag '{t.Text}'";
        if (_open.Count > 0)
        {
            var (tag, ends, position) = _open.Peek();
            var (line, column) = _source.Locate(position);
            detail += $"; the innermost open block is '{tag}' (line {line}, column {column}), which expects {Quote(ends)}";
        }
        throw Error(detail, t.Position);
    }

    private ForStmt ParseFor()
    {
        int position = Next().Position;
        var target = ParseAssignTarget(extraEnd: "in");
        if (!SkipName("in")) throw Error($"expected 'in' in for loop, got {Current.Describe()}", Current.Position);
        var iterable = ParseTuple(withCondexpr: false, extraEnd: "recursive");
        Expr? filter = SkipName("if") ? ParseExpression() : null;
        if (Current.IsName("recursive")) throw Error("recursive for loops are not supported", Current.Position);
        _loopDepth++;
        var body = ParseBody("for", position, ["endfor", "else"], out string end);
        _loopDepth--;
        var elseBody = end == "else" ? ParseBody("for", position, "endfor") : new List<Stmt>();
        return new ForStmt(target, iterable, filter, body, elseBody, position);
    }

    private IfStmt ParseIf()
    {
        int position = Next().Position;
        var branches = new List<(Expr, IReadOnlyList<Stmt>)>();
        IReadOnlyList<Stmt> elseBody = Array.Empty<Stmt>();
        while (true)
        {
            var test = ParseTuple(withCondexpr: false);
            var body = ParseBody("if", position, ["elif", "else", "endif"], out string end);
            branches.Add((test, body));
            if (end == "elif") continue;
            if (end == "else") elseBody = ParseBody("if", position, "endif");
            break;
        }
        return new IfStmt(branches, elseBody, position);
    }

    private Stmt ParseSet()
    {
        int position = Next().Position;
        Target target;
        if (Current.Kind == TokenKind.Name && Look.IsOp("."))
        {
            var ns = Next();
            _i++;
            target = new NamespaceTarget(ns.Text, Expect(TokenKind.Name).Text, ns.Position);
        }
        else target = ParseAssignTarget(extraEnd: null);
        if (SkipOp("=")) return new SetStmt(target, ParseTuple(withCondexpr: true), position);
        var filter = Current.IsOp("|") ? (FilterExpr)ParseFilter(null, startInline: false)! : null;
        return new SetBlockStmt(target, filter, ParseBody("set", position, "endset"), position);
    }

    private Target ParseAssignTarget(string? extraEnd)
    {
        int position = Current.Position;
        var items = new List<Target>();
        bool isTuple = false;
        while (true)
        {
            if (items.Count > 0) Expect(TokenKind.Operator, ",");
            if (IsTupleEnd(extraEnd) || Current.IsOp("=") || Current.IsOp("|")) break;
            if (SkipOp("("))
            {
                items.Add(ParseAssignTarget(null));
                Expect(TokenKind.Operator, ")");
            }
            else
            {
                var name = Current;
                if (name.Kind != TokenKind.Name || name.Text is "true" or "false" or "none" or "True" or "False" or "None")
                    throw Error($"can't assign to {name.Describe()}", name.Position);
                _i++;
                items.Add(new NameTarget(name.Text, name.Position));
            }
            if (Current.IsOp(",")) isTuple = true;
            else break;
        }
        if (items.Count == 0) throw Error($"expected an assignment target, got {Current.Describe()}", Current.Position);
        return isTuple ? new TupleTarget(items, position) : items[0];
    }

    private List<MacroParam> ParseSignature()
    {
        Expect(TokenKind.Operator, "(");
        var parameters = new List<MacroParam>();
        while (!Current.IsOp(")"))
        {
            if (parameters.Count > 0) Expect(TokenKind.Operator, ",");
            var name = Expect(TokenKind.Name);
            Expr? fallback = SkipOp("=") ? ParseExpression() : null;
            if (fallback is null && parameters.Any(p => p.Default is not null))
                throw Error("non-default argument follows default argument", name.Position);
            parameters.Add(new MacroParam(name.Text, fallback));
        }
        Expect(TokenKind.Operator, ")");
        return parameters;
    }

    private MacroStmt ParseMacro()
    {
        int position = Next().Position;
        string name = Expect(TokenKind.Name).Text;
        var parameters = ParseSignature();
        int savedDepth = _loopDepth;
        _loopDepth = 0;
        var body = ParseBody("macro", position, "endmacro");
        _loopDepth = savedDepth;
        return new MacroStmt(name, parameters, body, position);
    }

    private CallBlockStmt ParseCallBlock()
    {
        int position = Next().Position;
        var callerParams = Current.IsOp("(") ? ParseSignature() : new List<MacroParam>();
        var call = ParseExpression() as CallExpr ?? throw Error("expected a macro call after 'call'", position);
        int savedDepth = _loopDepth;
        _loopDepth = 0;
        var body = ParseBody("call", position, "endcall");
        _loopDepth = savedDepth;
        return new CallBlockStmt(call, callerParams, body, position);
    }

    private FilterBlockStmt ParseFilterBlock()
    {
        int position = Next().Position;
        var filter = (FilterExpr)ParseFilter(null, startInline: true)!;
        return new FilterBlockStmt(filter, ParseBody("filter", position, "endfilter"), position);
    }

    private WithStmt ParseWith()
    {
        int position = Next().Position;
        var assignments = new List<(Target, Expr)>();
        while (Current.Kind != TokenKind.BlockEnd)
        {
            if (assignments.Count > 0) Expect(TokenKind.Operator, ",");
            var target = ParseAssignTarget(null);
            Expect(TokenKind.Operator, "=");
            assignments.Add((target, ParseExpression()));
        }
        return new WithStmt(assignments, ParseBody("with", position, "endwith"), position);
    }
}
