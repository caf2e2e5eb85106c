using VlmTune.Data.Datasets;
using VlmTune.Data.Loading;

namespace VlmTune.Training;

/// <summary>
/// The order samples are visited in: epoch e is the seeded permutation SeededShuffle(n, seed + e) (or 0..n−1 without
/// shuffling), epochs laid end to end; with length grouping each epoch's permutation is then grouped by length
/// (<see cref="LengthGrouping"/>, batches of <c>batchSize</c>). Sample g of the run is a pure function of (seed, g),
/// so a resumed run, and a run with any number of data workers, sees exactly the data the uninterrupted one would have.
/// </summary>
public sealed class EpochOrder(int count, ulong seed, bool shuffle, Func<int, int>? lengthOf = null, int batchSize = 1)
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
            r[i] = shuffle || lengthOf != null ? Permutation(epoch)[offset] : offset;
        }
        return r;
    }

    /// <summary>The epoch a global position falls in.</summary>
    public int EpochOf(long position) => (int)(position / count);

    int[] Permutation(int epoch)
    {
        lock (_epochs)
        {
            if (_epochs.TryGetValue(epoch, out var p)) return p;
            _epochs.Remove(epoch - 2);                // keep memory bounded over many epochs
            p = shuffle ? SeededShuffle.Permutation(count, seed + (ulong)epoch) : Enumerable.Range(0, count).ToArray();
            if (lengthOf != null) p = LengthGrouping.Group(p, lengthOf, batchSize);
            return _epochs[epoch] = p;
        }
    }
}
