using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm;

/// <summary>
/// Keys and values of the processed positions per decoder layer: k, v (B, KV, P, hd). Decoding appends one step at a
/// time; attention of the new queries sees every cached key (causal offset = P). Used under no-grad.
/// </summary>
public sealed class KvCache(int layers)
{
    readonly Tensor?[] _k = new Tensor?[layers];
    readonly Tensor?[] _v = new Tensor?[layers];

    /// <summary>Cached positions (P) before the current step.</summary>
    public int Length { get; private set; }

    /// <summary>Appends this step's k, v to layer <paramref name="layer"/>; returns all keys/values and the past length.</summary>
    public (Tensor K, Tensor V, int Past) Append(int layer, Tensor k, Tensor v)
    {
        int past = _k[layer]?.Shape[2] ?? 0;
        _k[layer] = _k[layer] == null ? Ops.Contiguous(k) : Ops.Concat([_k[layer]!, k], 2);
        _v[layer] = _v[layer] == null ? Ops.Contiguous(v) : Ops.Concat([_v[layer]!, v], 2);
        if (layer == _k.Length - 1) Length = _k[layer]!.Shape[2];
        return (_k[layer]!, _v[layer]!, past);
    }
}
