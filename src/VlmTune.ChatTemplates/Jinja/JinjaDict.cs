namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// A Python dict as templates see it: insertion-ordered, keys compared with Python equality (1 == 1.0 == True).
/// Immutable once built (the sandbox forbids mutating methods).
/// </summary>
internal sealed class JinjaDict
{
    private readonly List<KeyValuePair<object?, object?>> _entries = new();
    private readonly Dictionary<object, int> _index = new(KeyComparer.Instance);

    public int Count => _entries.Count;

    public IReadOnlyList<KeyValuePair<object?, object?>> Entries => _entries;

    public IEnumerable<object?> Keys => _entries.Select(e => e.Key);

    public IEnumerable<object?> ValuesInOrder => _entries.Select(e => e.Value);

    /// <summary>Adds or replaces (keeping the first insertion position, as Python does).</summary>
    public void Set(object? key, object? value)
    {
        var k = KeyComparer.Normalize(key);
        if (_index.TryGetValue(k, out int i)) _entries[i] = new(_entries[i].Key, value);
        else
        {
            _index[k] = _entries.Count;
            _entries.Add(new(key, value));
        }
    }

    public bool TryGet(object? key, out object? value)
    {
        if (key is List<object?> or JinjaDict) throw new TemplateError($"unhashable type: '{Values.TypeName(key)}'");
        if (_index.TryGetValue(KeyComparer.Normalize(key), out int i))
        {
            value = _entries[i].Value;
            return true;
        }
        value = null;
        return false;
    }

    public bool ContainsKey(object? key) => TryGet(key, out _);

    /// <summary>Hashing that follows Python's: numbers by value (bool as int), strings ordinal, None as a marker.</summary>
    private sealed class KeyComparer : IEqualityComparer<object>
    {
        public static readonly KeyComparer Instance = new();
        private static readonly object NoneKey = new();

        public static object Normalize(object? key) => key switch
        {
            null => NoneKey,
            bool b => b ? 1L : 0L,
            double d when d == Math.Floor(d) && Math.Abs(d) < 9e18 => (long)d,
            _ => key,
        };

        public new bool Equals(object? x, object? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && Values.PyEquals(x, y));

        public int GetHashCode(object obj) => obj switch
        {
            TupleValue t => t.Aggregate(17, (h, item) => h * 31 + GetHashCode(Normalize(item))),
            _ => obj.GetHashCode(),
        };
    }
}
