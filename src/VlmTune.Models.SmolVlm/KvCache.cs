using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm;

/// <summary>How a <see cref="KvCache"/> grows.</summary>
public enum KvCacheLayout
{
    /// <summary>One buffer per layer for k and v, (B, KV, capacity, hd); each step is written into it in place and
    /// attention reads a view of the filled part. Exceeding the capacity doubles it (one copy).</summary>
    Preallocated,
    /// <summary>The whole cache concatenated anew every step (the former behaviour, O(P) copy and allocation per token);
    /// kept as the reference the preallocated cache is tested and benchmarked against.</summary>
    Concatenated,
}

/// <summary>
/// Keys and values of the processed positions per decoder layer: k, v (B, KV, P, hd). Decoding appends one step at a
/// time; attention of the new queries sees every cached key (causal offset = P). Used under no-grad. Preallocated
/// (the default): <paramref name="capacity"/> positions are reserved at the first append (e.g. prompt + new tokens),
/// so decoding allocates no cache memory per token.
/// </summary>
public sealed class KvCache(int layers, int capacity = 0, KvCacheLayout layout = KvCacheLayout.Preallocated)
{
    readonly Tensor?[] _k = new Tensor?[layers];   // Preallocated: (B, KV, cap, hd) buffers; Concatenated: (B, KV, P, hd)
    readonly Tensor?[] _v = new Tensor?[layers];
    readonly int[] _filled = new int[layers];

    /// <summary>Cached positions (P) before the current step.</summary>
    public int Length { get; private set; }

    public KvCacheLayout Layout => layout;

    /// <summary>Cache buffers allocated so far (k and v of every layer count one each; growth past the capacity adds
    /// two per layer). Concatenated: two per append.</summary>
    public int Allocations { get; private set; }

    /// <summary>The storage behind layer <paramref name="layer"/>'s keys (tests: it must not change while decoding).</summary>
    public Storage? KeyStorage(int layer) => _k[layer]?.Storage;

    /// <summary>Appends this step's k, v (B, KV, L, hd) to layer <paramref name="layer"/>; returns all keys/values
    /// (B, KV, P+L, hd) and the past length P.</summary>
    public (Tensor K, Tensor V, int Past) Append(int layer, Tensor k, Tensor v)
    {
        int past = _filled[layer], l = k.Shape[2];
        if (layout == KvCacheLayout.Concatenated)
        {
            _k[layer] = _k[layer] == null ? Ops.Contiguous(k) : Ops.Concat([_k[layer]!, k], 2);
            _v[layer] = _v[layer] == null ? Ops.Contiguous(v) : Ops.Concat([_v[layer]!, v], 2);
            Allocations += 2;
        }
        else
        {
            if (_k[layer] == null || _k[layer]!.Shape[2] < past + l)
            {
                int reserved = Math.Max(past + l, Math.Max(capacity, 2 * (_k[layer]?.Shape[2] ?? 0)));
                _k[layer] = Grow(_k[layer], k, past, reserved);
                _v[layer] = Grow(_v[layer], v, past, reserved);
            }
            Ops.CopyInto(k, Ops.Narrow(_k[layer]!, 2, past, l));
            Ops.CopyInto(v, Ops.Narrow(_v[layer]!, 2, past, l));
        }
        _filled[layer] = past + l;
        if (layer == _k.Length - 1) Length = past + l;
        var keys = _k[layer]!;
        var values = _v[layer]!;
        return layout == KvCacheLayout.Concatenated
            ? (keys, values, past)
            : (Ops.Narrow(keys, 2, 0, past + l), Ops.Narrow(values, 2, 0, past + l), past);
    }

    /// <summary>A (B, KV, reserved, hd) buffer in x's dtype holding the first <paramref name="filled"/> positions of old.</summary>
    Tensor Grow(Tensor? old, Tensor x, int filled, int reserved)
    {
        var (b, kv, _, hd) = x.Shape.Dims4();
        if (old != null && (old.Shape[0] != b || old.Shape[1] != kv || old.Shape[3] != hd || old.DType != x.DType))
            throw new ModelInputException($"kv cache: step {x.DType.Name()} {x.Shape} does not match the cached {old.DType.Name()} {old.Shape}");
        var buffer = Ops.Empty(new Shape(b, kv, reserved, hd), x.DType, x.Device);
        if (old != null && filled > 0) Ops.CopyInto(Ops.Narrow(old, 2, 0, filled), Ops.Narrow(buffer, 2, 0, filled));
        Allocations++;
        return buffer;
    }
}
