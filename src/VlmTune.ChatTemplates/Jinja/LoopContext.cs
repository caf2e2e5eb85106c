namespace VlmTune.ChatTemplates.Jinja;

/// <summary>The <c>loop</c> variable inside a for loop (index, index0, revindex, first, last, length, ...).</summary>
internal sealed class LoopContext
{
    private readonly IReadOnlyList<object?> _items;
    private readonly int _i;

    public LoopContext(IReadOnlyList<object?> items, int i, int depth0)
    {
        _items = items;
        _i = i;
        Depth0 = depth0;
    }

    public int Depth0 { get; }

    public object? GetAttribute(string name) => name switch
    {
        "index" => (long)(_i + 1),
        "index0" => (long)_i,
        "revindex" => (long)(_items.Count - _i),
        "revindex0" => (long)(_items.Count - _i - 1),
        "first" => _i == 0,
        "last" => _i == _items.Count - 1,
        "length" => (long)_items.Count,
        "depth" => (long)(Depth0 + 1),
        "depth0" => (long)Depth0,
        "previtem" => _i > 0 ? _items[_i - 1] : Undefined.WithHint("there is no previous item"),
        "nextitem" => _i + 1 < _items.Count ? _items[_i + 1] : Undefined.WithHint("there is no next item"),
        "cycle" => new Callable("cycle", args =>
        {
            if (args.Positional.Count == 0) throw new TemplateError("no items for cycling given");
            return args.Positional[_i % args.Positional.Count];
        }),
        _ => Undefined.Member(this, name),
    };
}
