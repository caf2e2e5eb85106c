using VlmTune.Tokenizers.Pipeline;

namespace VlmTune.Tokenizers;

/// <summary>
/// A byte-level BPE tokenizer loaded from a Hugging Face tokenizer.json, reproducing the Rust
/// <c>tokenizers</c> library's ids. Pipeline per text:
/// <list type="number">
/// <item>added tokens with <c>normalized=false</c> are cut out of the raw text (leftmost-longest);</item>
/// <item>each remaining piece is normalized, then added tokens with <c>normalized=true</c> are cut out;</item>
/// <item>each remaining piece is pre-tokenized (Digits, ByteLevel GPT-2 regex, byte-to-character mapping);</item>
/// <item>each word goes through BPE merges; finally the post-processor adds template tokens (BOS, ...).</item>
/// </list>
/// Instances are immutable and thread-safe.
/// </summary>
public sealed class Tokenizer
{
    private readonly BpeModel _model;
    private readonly Normalizer _normalizer;
    private readonly PreTokenizer _preTokenizer;
    private readonly PostProcessor _postProcessor;
    private readonly Decoder _decoder;
    private readonly AddedTokenMatcher _rawMatcher;
    private readonly AddedTokenMatcher _normalizedMatcher;
    private readonly Dictionary<string, int> _addedByContent = new(StringComparer.Ordinal);
    private readonly Dictionary<int, AddedToken> _addedById = new();
    private readonly HashSet<string> _specialContents = new(StringComparer.Ordinal);
    private readonly string?[] _modelTokens;

    private Tokenizer(TokenizerJson.Parts parts)
    {
        _model = parts.Model;
        _normalizer = parts.Normalizer;
        _preTokenizer = parts.PreTokenizer;
        _postProcessor = parts.PostProcessor;
        _decoder = parts.Decoder;
        AddedTokens = parts.AddedTokens;
        foreach (AddedToken t in AddedTokens)
        {
            _addedByContent[t.Content] = t.Id;
            _addedById[t.Id] = t;
            if (t.Special) _specialContents.Add(t.Content);
        }
        _rawMatcher = new AddedTokenMatcher(AddedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        _normalizedMatcher = new AddedTokenMatcher(
            AddedTokens.Where(t => t.Normalized).Select(t => (_normalizer.Normalize(t.Content), t)));

        int maxId = -1;
        foreach (int id in _model.Vocab.Values) maxId = Math.Max(maxId, id);
        foreach (AddedToken t in AddedTokens) maxId = Math.Max(maxId, t.Id);
        VocabSize = maxId + 1;
        _modelTokens = new string?[VocabSize];
        foreach (var (token, id) in _model.Vocab) _modelTokens[id] = token;
        int longest = 1;
        foreach (var token in _model.Vocab.Keys) longest = Math.Max(longest, token.Length);
        foreach (AddedToken t in AddedTokens) longest = Math.Max(longest, t.Content.Length);
        _maxTokenChars = longest;
    }

    private readonly int _maxTokenChars;

    /// <summary>
    /// A lower bound on the number of tokens <paramref name="text"/> encodes to, computed without encoding it: no
    /// token stands for more input characters than the longest vocabulary entry or added token (a byte-level entry
    /// has one character per byte, and every UTF-16 unit is at least one byte); a normalizer that may shorten text
    /// (composition folds at most 3 characters into 1) divides that by 4. Lets callers refuse an over-long record
    /// before spending time and memory on it.
    /// </summary>
    public long MinTokenCount(int textLength) => textLength / ((long)_maxTokenChars * (_normalizer.IsIdentity ? 1 : 4));

    /// <summary>Number of token ids: highest id (model vocab or added token) + 1.</summary>
    public int VocabSize { get; }

    /// <summary>The added tokens (special and not), ordered by id.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>Loads a tokenizer.json file.</summary>
    /// <exception cref="TokenizerFormatException">The file is malformed or uses an unsupported component.</exception>
    public static Tokenizer FromFile(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"tokenizer file not found: {path}", path, e);
        }
        return new Tokenizer(TokenizerJson.Read(path, bytes));
    }

    /// <summary>Loads <c>tokenizer.json</c> from a model directory (a Hugging Face checkpoint folder).</summary>
    public static Tokenizer FromDirectory(string directory)
    {
        string path = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(path))
            throw new FileNotFoundException($"no tokenizer.json in {directory} (VlmTune reads only the fast-tokenizer file)", path);
        var tokenizer = FromFile(path);
        tokenizer.CleanUpTokenizationSpaces = ReadCleanUpFlag(Path.Combine(directory, "tokenizer_config.json"));
        return tokenizer;
    }

    /// <summary>
    /// tokenizer_config.json's <c>clean_up_tokenization_spaces</c>, which transformers applies after decoding
    /// (<see cref="CleanUpTokenization"/>); false when the key or the file is absent (transformers' current default).
    /// </summary>
    public bool CleanUpTokenizationSpaces { get; private set; }

    static bool ReadCleanUpFlag(string configPath)
    {
        if (!File.Exists(configPath)) return false;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(configPath));
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                   && doc.RootElement.TryGetProperty("clean_up_tokenization_spaces", out var v)
                   && v.ValueKind == System.Text.Json.JsonValueKind.True;
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new TokenizerFormatException(configPath, "$", $"malformed JSON ({e.Message.Split('\n')[0]})", e);
        }
    }

    /// <summary>
    /// transformers' <c>clean_up_tokenization</c> (tokenization_utils_base.py), applied by its decode when
    /// clean_up_tokenization_spaces is set: removes the space before . ? ! , and before the English contractions
    /// n't 'm 's 've 're, and turns " ' " into "'" — plain substring replacements, in this order.
    /// </summary>
    public static string CleanUpTokenization(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);

    /// <summary>Token ids of <paramref name="text"/>, with the post-processor's special tokens when asked.</summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        EncodeCore(text, ids, null);
        return _postProcessor.Apply(ids, addSpecialTokens);
    }

    /// <summary>
    /// Like <see cref="Encode"/>, plus the input span of every token (see <see cref="EncodedText"/>).
    /// </summary>
    /// <exception cref="NotSupportedException">
    /// The normalizer changes the text (spans would need alignment tracking), or the post-processor trims offsets.
    /// </exception>
    public EncodedText EncodeWithOffsets(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_postProcessor.TrimsOffsets)
            throw new NotSupportedException("token offsets with a ByteLevel post-processor using trim_offsets=true are not implemented");
        var ids = new List<int>(text.Length / 3 + 4);
        var offsets = new List<(int, int)>(ids.Capacity);
        EncodeCore(text, ids, offsets);
        int[] all = _postProcessor.Apply(ids, addSpecialTokens);
        int prefix = addSpecialTokens ? _postProcessor.PrefixCount : 0;
        var spans = new (int, int)[all.Length];
        offsets.CopyTo(spans, prefix);
        return new EncodedText(all, spans);
    }

    /// <summary>Encodes many texts (in parallel); result i belongs to texts[i].</summary>
    public int[][] EncodeBatch(IReadOnlyList<string> texts, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new int[texts.Count][];
        Parallel.For(0, texts.Count, i => result[i] = Encode(texts[i], addSpecialTokens));
        return result;
    }

    /// <summary>
    /// Text of <paramref name="ids"/>. With <paramref name="skipSpecialTokens"/>, added tokens marked special are
    /// dropped. Invalid UTF-8 (e.g. a multi-byte character cut in half) becomes U+FFFD.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false) =>
        Decode(ids, skipSpecialTokens, CleanUpTokenizationSpaces);

    /// <summary>As <see cref="Decode(ReadOnlySpan{int}, bool)"/>, with transformers' clean-up chosen explicitly.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens, bool cleanUpTokenizationSpaces)
    {
        string text = DecodeRaw(ids, skipSpecialTokens);
        return cleanUpTokenizationSpaces ? CleanUpTokenization(text) : text;
    }

    private string DecodeRaw(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var tokens = new List<string>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            string token = IdToToken(ids[i]) ?? throw new ArgumentOutOfRangeException(
                nameof(ids), ids[i], $"ids[{i}] = {ids[i]} is not a token id (vocabulary size {VocabSize})");
            if (skipSpecialTokens && _specialContents.Contains(token)) continue;
            tokens.Add(token);
        }
        return _decoder.Decode(tokens);
    }

    /// <summary>Added-token split, normalization, added-token split of the normalized text, pre-tokenization, BPE.</summary>
    private void EncodeCore(string text, List<int> ids, List<(int, int)>? offsets)
    {
        var splits = new List<AddedTokenMatcher.Split>();
        var inner = new List<AddedTokenMatcher.Split>();
        var words = new List<PreTokenizer.Word>();
        var scratch = new List<PreTokenizer.Word>();
        var ranges = new List<(int Start, int Length)>();

        _rawMatcher.FindMatches(text, splits);
        foreach (var split in splits)
        {
            if (split.TokenId >= 0)
            {
                ids.Add(split.TokenId);
                offsets?.Add((split.Start, split.End));
                continue;
            }
            if (split.End == split.Start) continue;
            string piece = split.Start == 0 && split.End == text.Length ? text : text[split.Start..split.End];
            string normalized = _normalizer.IsIdentity ? piece : _normalizer.Normalize(piece);
            if (offsets is not null && !ReferenceEquals(normalized, piece) && normalized != piece)
                throw new NotSupportedException("token offsets are not available when the normalizer changes the text");
            inner.Clear();
            _normalizedMatcher.FindMatches(normalized, inner);
            foreach (var sub in inner)
            {
                if (sub.TokenId >= 0)
                {
                    ids.Add(sub.TokenId);
                    offsets?.Add((split.Start + sub.Start, split.Start + sub.End));
                    continue;
                }
                if (sub.End == sub.Start) continue;
                string segment = sub.Start == 0 && sub.End == normalized.Length ? normalized : normalized[sub.Start..sub.End];
                _preTokenizer.Split(segment, words, scratch, ranges);
                foreach (PreTokenizer.Word w in words)
                {
                    int before = ids.Count;
                    if (w.PrefixSpace) _model.Tokenize(" " + segment.Substring(w.Start, w.Length), _preTokenizer.MapsBytes, ids);
                    else if (w.Length > 0) _model.Tokenize(segment.AsSpan(w.Start, w.Length), _preTokenizer.MapsBytes, ids);
                    if (offsets is not null) AddWordOffsets(segment, w, split.Start + sub.Start, ids, before, offsets);
                }
            }
        }
    }

    /// <summary>
    /// Spans of the tokens ids[first..] of one word. Each BPE unit (a UTF-8 byte for byte-level models, else a UTF-16
    /// unit) maps back to the character it came from; an inserted prefix space maps to the word's first character.
    /// </summary>
    private void AddWordOffsets(string segment, PreTokenizer.Word w, int origin, List<int> ids, int first, List<(int, int)> offsets)
    {
        var unitStart = new List<int>();
        var unitEnd = new List<int>();
        int firstLen = w.Start < segment.Length ? (char.IsHighSurrogate(segment[w.Start]) && w.Start + 1 < segment.Length ? 2 : 1) : 0;
        if (w.PrefixSpace)
        {
            unitStart.Add(origin + w.Start);
            unitEnd.Add(origin + w.Start + firstLen);
        }
        for (int i = w.Start; i < w.Start + w.Length;)
        {
            int len = char.IsHighSurrogate(segment[i]) && i + 1 < segment.Length && char.IsLowSurrogate(segment[i + 1]) ? 2 : 1;
            int units = _preTokenizer.MapsBytes ? System.Text.Encoding.UTF8.GetByteCount(segment.AsSpan(i, len)) : len;
            for (int u = 0; u < units; u++)
            {
                unitStart.Add(origin + i);
                unitEnd.Add(origin + i + len);
            }
            i += len;
        }
        int pos = 0;
        for (int k = first; k < ids.Count; k++)
        {
            int n = Math.Max(1, IdToToken(ids[k])!.Length);
            int last = Math.Min(pos + n, unitStart.Count) - 1;
            offsets.Add(pos < unitStart.Count ? (unitStart[pos], unitEnd[Math.Max(last, pos)]) : (origin + w.Start + w.Length, origin + w.Start + w.Length));
            pos += n;
        }
    }

    /// <summary>Id of a token string (added tokens first, then the model vocab), or null.</summary>
    public int? TokenToId(string token)
    {
        if (_addedByContent.TryGetValue(token, out int id)) return id;
        return _model.Vocab.TryGetValue(token, out id) ? id : null;
    }

    /// <summary>Token string of an id (byte-level form for model tokens), or null when unknown.</summary>
    public string? IdToToken(int id)
    {
        if (_addedById.TryGetValue(id, out AddedToken? t)) return t.Content;
        return id >= 0 && id < _modelTokens.Length ? _modelTokens[id] : null;
    }
}
