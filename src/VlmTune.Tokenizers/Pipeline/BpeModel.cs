using System.Collections.Concurrent;
using System.Text;

namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// Hugging Face's BPE model for one pre-tokenized word: start from single characters, then repeatedly apply the
/// lowest-ranked merge, leftmost first (a priority queue keyed by (rank, position), as in the Rust crate's
/// <c>Word::merge_all</c>). Results are cached per raw word (before the byte-level mapping, which is a bijection).
/// </summary>
internal sealed class BpeModel
{
    private const int MaxCachedWords = 200_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(int Left, int Right), (int Rank, int NewId)> _merges;
    private readonly int? _unkId;
    private readonly bool _fuseUnk;
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    /// <summary>Id of each single-UTF-16-unit token, -1 when absent (the common, byte-level case).</summary>
    private readonly int[] _charIds = new int[char.MaxValue + 1];

    public BpeModel(
        Dictionary<string, int> vocab, Dictionary<(int, int), (int, int)> merges, int? unkId, bool fuseUnk, bool ignoreMerges)
    {
        _vocab = vocab;
        _merges = merges;
        _unkId = unkId;
        _fuseUnk = fuseUnk;
        _ignoreMerges = ignoreMerges;
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        Array.Fill(_charIds, -1);
        foreach (var (token, id) in vocab)
        {
            if (token.Length == 1) _charIds[token[0]] = id;
        }
    }

    public IReadOnlyDictionary<string, int> Vocab => _vocab;

    /// <summary>
    /// Appends the ids of a raw word. With <paramref name="mapBytes"/> the word is first turned into GPT-2 byte
    /// stand-ins (ByteLevel pre-tokenizer); otherwise BPE runs on its characters.
    /// </summary>
    public void Tokenize(ReadOnlySpan<char> word, bool mapBytes, List<int> output)
    {
        if (_cacheBySpan.TryGetValue(word, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }
        string raw = word.ToString();
        int[] ids = TokenizeUncached(mapBytes ? MapBytes(raw) : raw);
        if (_cache.Count >= MaxCachedWords) _cache.Clear();
        _cache[raw] = ids;
        output.AddRange(ids);
    }

    /// <summary>UTF-8 bytes of <paramref name="s"/>, each replaced by its byte-level stand-in character.</summary>
    private static string MapBytes(string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        var chars = new char[bytes.Length];
        for (int k = 0; k < bytes.Length; k++) chars[k] = ByteLevelAlphabet.ByteToChar[bytes[k]];
        return new string(chars);
    }

    private int[] TokenizeUncached(string word)
    {
        if (_ignoreMerges && _vocab.TryGetValue(word, out int whole)) return [whole];

        // Initial symbols: one per character (a surrogate pair counts as one character).
        var ids = new List<int>(word.Length);
        bool lastWasUnk = false;
        for (int i = 0; i < word.Length; i++)
        {
            int len = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            int id = len == 1 ? _charIds[word[i]] : _vocab.GetValueOrDefault(word.Substring(i, 2), -1);
            i += len - 1;
            if (id >= 0)
            {
                ids.Add(id);
                lastWasUnk = false;
            }
            else if (_unkId is int unk)
            {
                // Unknown character: the unk token (consecutive ones fused when fuse_unk), as HF does;
                // with no unk token HF silently drops the character, and so do we.
                if (!(_fuseUnk && lastWasUnk)) ids.Add(unk);
                lastWasUnk = true;
            }
        }
        return MergeAll(ids);
    }

    /// <summary>Applies merges to the symbol ids; a doubly linked list over the initial positions.</summary>
    private int[] MergeAll(List<int> symbols)
    {
        int n = symbols.Count;
        if (n < 2) return symbols.ToArray();
        var id = symbols.ToArray();
        var prev = new int[n];
        var next = new int[n];
        var alive = new bool[n];
        for (int k = 0; k < n; k++)
        {
            prev[k] = k - 1;
            next[k] = k + 1 < n ? k + 1 : -1;
            alive[k] = true;
        }

        var queue = new PriorityQueue<(int Pos, int NewId), (int Rank, int Pos)>(n);
        for (int k = 0; k + 1 < n; k++)
        {
            if (_merges.TryGetValue((id[k], id[k + 1]), out var m)) queue.Enqueue((k, m.NewId), (m.Rank, k));
        }

        int remaining = n;
        while (queue.TryDequeue(out var top, out _))
        {
            int pos = top.Pos;
            if (!alive[pos] || next[pos] == -1) continue;
            int right = next[pos];
            // Skip stale entries: the pair at this position changed since it was queued.
            if (!_merges.TryGetValue((id[pos], id[right]), out var current) || current.NewId != top.NewId) continue;

            id[pos] = top.NewId;
            alive[right] = false;
            remaining--;
            next[pos] = next[right];
            if (next[right] != -1) prev[next[right]] = pos;

            if (prev[pos] >= 0 && _merges.TryGetValue((id[prev[pos]], id[pos]), out var left))
                queue.Enqueue((prev[pos], left.NewId), (left.Rank, prev[pos]));
            if (next[pos] != -1 && _merges.TryGetValue((id[pos], id[next[pos]]), out var after))
                queue.Enqueue((pos, after.NewId), (after.Rank, pos));
        }

        var result = new int[remaining];
        int w = 0;
        for (int k = 0; k != -1 && w < remaining; k = next[k]) result[w++] = id[k];
        return result;
    }
}
