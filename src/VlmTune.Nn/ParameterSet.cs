using VlmTune.Tensors;

namespace VlmTune.Nn;

/// <summary>A model's tensors by checkpoint key, in construction order.</summary>
public sealed class ParameterSet
{
    readonly Dictionary<string, Tensor> _byKey = new(StringComparer.Ordinal);
    readonly List<string> _order = [];

    public void Add(string key, Tensor tensor)
    {
        if (!_byKey.TryAdd(key, tensor)) throw new InvalidOperationException($"parameter '{key}' registered twice");
        _order.Add(key);
    }

    /// <summary>Forgets a tensor (e.g. a weight replaced by its 4-bit form, so the original can be freed).</summary>
    public bool Remove(string key)
    {
        if (!_byKey.Remove(key)) return false;
        _order.Remove(key);
        return true;
    }

    public IEnumerable<(string Key, Tensor Tensor)> All => _order.Select(k => (k, _byKey[k]));
    public Tensor this[string key] => _byKey.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"no parameter '{key}'");
    public bool TryGet(string key, out Tensor tensor) => _byKey.TryGetValue(key, out tensor!);
    public int Count => _order.Count;
    public long ElementCount => _byKey.Values.Sum(t => t.Numel);
}
