using VlmTune.Data.Datasets;

namespace VlmTune.Training;

/// <summary>
/// The order samples are visited in: epoch e is the seeded permutation SeededShuffle(n, seed + e) (or 0..n−1 without
/// shuffling), epochs laid end to end. Sample g of the run is a pure function of (seed, g), so a resumed run sees
/// exactly the data the uninterrupted one would have.
/// </summary>
public sealed class EpochOrder(int count, ulong seed, bool shuffle)
{
    readonly Dictionary<int, int[]> _epochs = new();

    /// <summary>Indices of the samples at global positions [from, from + n).</summary>
    public int[] Slice(long from, int n)
    {
        var r = new int[n];
        for (int i = 0; i < n; i++)
        {
            long g = from + i;
            int epoch = (int)(g / count), offset = (int)(g % count);
            r[i] = shuffle ? Permutation(epoch)[offset] : offset;
        }
        return r;
    }

    int[] Permutation(int epoch) =>
        _epochs.TryGetValue(epoch, out var p) ? p : _epochs[epoch] = SeededShuffle.Permutation(count, seed + (ulong)epoch);
}
