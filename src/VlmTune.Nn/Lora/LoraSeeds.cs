namespace VlmTune.Nn.Lora;

/// <summary>
/// Seed derivation for adapters: a stable 64-bit hash of the module path (FNV-1a over UTF-16 code units) mixed with the
/// run seed by SplitMix64's finaliser, so every module's random stream depends on (seed, path) only — not on the order
/// in which adapters are created.
/// </summary>
public static class LoraSeeds
{
    public static ulong HashPath(string path)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in path)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return h;
    }

    public static ulong Mix(ulong seed, ulong salt)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (salt | 1) + salt;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Seed for one named tensor of one module ("lora_A", ...).</summary>
    public static ulong For(ulong seed, string path, string tensor) => Mix(Mix(seed, HashPath(path)), HashPath(tensor));
}
