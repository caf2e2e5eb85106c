namespace VlmTune.ChatTemplates.Jinja;

// The template AST. Every node carries Position, an offset into the normalised source, for error messages.

internal abstract record Node(int Position);

// ---- expressions ----

internal abstract record Expr(int Position) : Node(Position);

internal sealed record ConstExpr(object? Value, int Position) : Expr(Position);

internal sealed record NameExpr(string Name, int Position) : Expr(Position);

internal sealed record ListExpr(IReadOnlyList<Expr> Items, int Position) : Expr(Position);

internal sealed record TupleExpr(IReadOnlyList<Expr> Items, int Position) : Expr(Position);

internal sealed record DictExpr(IReadOnlyList<(Expr Key, Expr Value)> Pairs, int Position) : Expr(Position);

internal sealed record GetAttrExpr(Expr Target, string Name, int Position) : Expr(Position);

internal sealed record GetItemExpr(Expr Target, Expr Index, int Position) : Expr(Position);

/// <summary>The a:b:c inside a subscript; absent parts are null.</summary>
internal sealed record SliceExpr(Expr? Start, Expr? Stop, Expr? Step, int Position) : Expr(Position);

internal sealed record CallArgs(IReadOnlyList<Expr> Positional, IReadOnlyList<(string Name, Expr Value)> Keywords)
{
    public static readonly CallArgs Empty = new(Array.Empty<Expr>(), Array.Empty<(string, Expr)>());
}

internal sealed record CallExpr(Expr Function, CallArgs Args, int Position) : Expr(Position);

/// <summary>value | name(args). <see cref="Target"/> is null inside {% filter %} blocks and {% set x | f %}.</summary>
internal sealed record FilterExpr(Expr? Target, string Name, CallArgs Args, int Position) : Expr(Position);

internal sealed record TestExpr(Expr Target, string Name, CallArgs Args, int Position) : Expr(Position);

internal sealed record UnaryExpr(string Op, Expr Operand, int Position) : Expr(Position);

internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Position) : Expr(Position);

internal sealed record ConcatExpr(IReadOnlyList<Expr> Parts, int Position) : Expr(Position);

internal sealed record AndExpr(Expr Left, Expr Right, int Position) : Expr(Position);

internal sealed record OrExpr(Expr Left, Expr Right, int Position) : Expr(Position);

internal sealed record NotExpr(Expr Operand, int Position) : Expr(Position);

/// <summary>first op1 x op2 y ... (chained comparisons, "in", "notin").</summary>
internal sealed record CompareExpr(Expr First, IReadOnlyList<(string Op, Expr Operand)> Rest, int Position) : Expr(Position);

/// <summary>then if test else otherwise; otherwise null yields Undefined.</summary>
internal sealed record CondExpr(Expr Test, Expr Then, Expr? Otherwise, int Position) : Expr(Position);

// ---- assignment targets ----

internal abstract record Target(int Position) : Node(Position);

internal sealed record NameTarget(string Name, int Position) : Target(Position);

internal sealed record NamespaceTarget(string Namespace, string Attribute, int Position) : Target(Position);

internal sealed record TupleTarget(IReadOnlyList<Target> Items, int Position) : Target(Position);

// ---- statements ----

internal abstract record Stmt(int Position) : Node(Position);

internal sealed record TextStmt(string Text, int Position) : Stmt(Position);

internal sealed record PrintStmt(Expr Value, int Position) : Stmt(Position);

internal sealed record IfStmt(IReadOnlyList<(Expr Test, IReadOnlyList<Stmt> Body)> Branches, IReadOnlyList<Stmt> Else, int Position) : Stmt(Position);

internal sealed record ForStmt(Target Target, Expr Iterable, Expr? Filter, IReadOnlyList<Stmt> Body, IReadOnlyList<Stmt> Else, int Position) : Stmt(Position);

internal sealed record SetStmt(Target Target, Expr Value, int Position) : Stmt(Position);

/// <summary>{% set x %}...{% endset %} (optionally {% set x | filter %}).</summary>
internal sealed record SetBlockStmt(Target Target, FilterExpr? Filter, IReadOnlyList<Stmt> Body, int Position) : Stmt(Position);

internal sealed record MacroParam(string Name, Expr? Default);

internal sealed record MacroStmt(string Name, IReadOnlyList<MacroParam> Params, IReadOnlyList<Stmt> Body, int Position) : Stmt(Position);

/// <summary>{% call(params) macro(args) %}body{% endcall %}: the body becomes the macro's <c>caller()</c>.</summary>
internal sealed record CallBlockStmt(CallExpr Call, IReadOnlyList<MacroParam> CallerParams, IReadOnlyList<Stmt> Body, int Position) : Stmt(Position);

/// <summary>{% filter f %}body{% endfilter %}: the chain's innermost FilterExpr has a null target (the body).</summary>
internal sealed record FilterBlockStmt(FilterExpr Filter, IReadOnlyList<Stmt> Body, int Position) : Stmt(Position);

internal sealed record WithStmt(IReadOnlyList<(Target Target, Expr Value)> Assignments, IReadOnlyList<Stmt> Body, int Position) : Stmt(Position);

internal sealed record BreakStmt(int Position) : Stmt(Position);

internal sealed record ContinueStmt(int Position) : Stmt(Position);

/// <summary>transformers' {% generation %}...{% endgeneration %}: renders its body unchanged (it only marks assistant spans).</summary>
internal sealed record GenerationStmt(IReadOnlyList<Stmt> Body, int Position) : Stmt(Position);
