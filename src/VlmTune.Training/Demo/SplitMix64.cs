namespace VlmTune.Training.Demo;

/// <summary>SplitMix64 (Steele et al.): a tiny, platform-independent generator; bounded draws by rejection.
/// Shared by the demo's shapes task and the learning benchmark's tasks: a seed names the same data everywhere.</summary>
internal sealed class SplitMix64(ulong seed)
{
    ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n), n ≥ 1, without modulo bias.</summary>
    public int Below(int n)
    {
        ulong bound = (ulong)n, limit = ulong.MaxValue - ulong.MaxValue % bound;
        ulong v;
        do v = Next(); while (v >= limit);
        return (int)(v % bound);
    }
}
