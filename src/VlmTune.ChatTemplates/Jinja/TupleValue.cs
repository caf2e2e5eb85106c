namespace VlmTune.ChatTemplates.Jinja;

/// <summary>An immutable Python tuple (prints as "(a, b)"; never equal to a list).</summary>
internal sealed class TupleValue : IReadOnlyList<object?>
{
    public static readonly TupleValue Empty = new(Array.Empty<object?>());

    private readonly object?[] _items;

    public TupleValue(object?[] items) => _items = items;

    public object? this[int index] => _items[index];

    public int Count => _items.Length;

    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _items.GetEnumerator();
}
