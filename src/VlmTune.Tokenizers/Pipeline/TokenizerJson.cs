using System.Text.Json;

namespace VlmTune.Tokenizers.Pipeline;

/// <summary>Reads a Hugging Face tokenizer.json into the pipeline parts (format version "1.0").</summary>
internal static class TokenizerJson
{
    public sealed record Parts(
        BpeModel Model, IReadOnlyList<AddedToken> AddedTokens, Normalizer Normalizer, PreTokenizer PreTokenizer,
        PostProcessor PostProcessor, Decoder Decoder);

    public static Parts Read(string file, ReadOnlySpan<byte> utf8)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(file, "$",
                $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}", e);
        }
        using (doc)
        {
            var root = new Json(file, doc.RootElement, "$");
            if (root.Element.ValueKind != JsonValueKind.Object) throw root.Error("expected a JSON object");
            if (root.Optional("version") is Json version && version.String() != "1.0")
                throw version.Error($"unknown tokenizer.json version \"{version.String()}\" (expected \"1.0\")");
            if (root.Optional("truncation") is Json t) throw t.Error("truncation is not supported; set it to null");
            if (root.Optional("padding") is Json p) throw p.Error("padding is not supported; set it to null");

            Normalizer normalizer = Normalizer.Load(root.Optional("normalizer"));
            BpeModel model = ReadModel(root.Get("model"));
            return new Parts(
                model,
                ReadAddedTokens(root.Get("added_tokens"), model),
                normalizer,
                PreTokenizer.Load(root.Optional("pre_tokenizer")),
                PostProcessor.Load(root.Optional("post_processor")),
                Decoder.Load(root.Optional("decoder")));
        }
    }

    private static BpeModel ReadModel(Json model)
    {
        if (model.Optional("type") is Json type && type.String() != "BPE")
            throw type.Error($"model type \"{type.String()}\" is not supported (only BPE)");
        if (model.Optional("dropout") is Json dropout && (dropout.Element.ValueKind != JsonValueKind.Number || dropout.Element.GetDouble() != 0))
            throw dropout.Error("BPE dropout is not supported; set it to null");
        if (model.BoolOr("byte_fallback", false))
            throw model.Get("byte_fallback").Error("byte_fallback is not supported (byte-level BPE never needs it)");
        if (model.Optional("continuing_subword_prefix") is Json prefix && prefix.String().Length > 0)
            throw prefix.Error("continuing_subword_prefix is not supported; set it to null");
        if (model.Optional("end_of_word_suffix") is Json suffix && suffix.String().Length > 0)
            throw suffix.Error("end_of_word_suffix is not supported; set it to null");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var seenIds = new Dictionary<int, string>();
        foreach (var (token, idJson) in model.Get("vocab").Members())
        {
            int id = idJson.Id();
            if (seenIds.TryGetValue(id, out string? other))
                throw idJson.Error($"id {id} is used by both \"{other}\" and \"{token}\"");
            seenIds[id] = token;
            vocab[token] = id;
        }

        var merges = new Dictionary<(int, int), (int, int)>();
        int rank = 0;
        foreach (Json merge in model.Get("merges").Items())
        {
            (string a, string b) = ReadMerge(merge);
            int left = Lookup(vocab, a, merge), right = Lookup(vocab, b, merge), joined = Lookup(vocab, a + b, merge);
            merges[(left, right)] = (rank++, joined); // a repeated pair keeps its last rank, as in HF
        }

        int? unkId = null;
        if (model.Optional("unk_token") is Json unk)
        {
            if (!vocab.TryGetValue(unk.String(), out int u)) throw unk.Error($"unk_token \"{unk.String()}\" is not in the vocab");
            unkId = u;
        }
        return new BpeModel(vocab, merges, unkId, model.BoolOr("fuse_unk", false), model.BoolOr("ignore_merges", false));
    }

    /// <summary>Both encodings of a merge: the string "a b" (split on its single space) and the pair ["a", "b"].</summary>
    private static (string, string) ReadMerge(Json merge)
    {
        if (merge.Element.ValueKind == JsonValueKind.String)
        {
            string[] parts = merge.String().Split(' ');
            if (parts.Length != 2) throw merge.Error($"a merge string must be two tokens separated by one space, found \"{merge.String()}\"");
            return (parts[0], parts[1]);
        }
        var items = merge.Items().ToArray();
        if (items.Length != 2) throw merge.Error($"a merge pair must have two tokens, found {items.Length}");
        return (items[0].String(), items[1].String());
    }

    private static int Lookup(Dictionary<string, int> vocab, string token, Json where) =>
        vocab.TryGetValue(token, out int id) ? id : throw where.Error($"merge uses \"{token}\", which is not in the vocab");

    /// <summary>
    /// Added tokens, checked against the ids Hugging Face would assign when it re-adds them in file order
    /// (a token already in the vocab keeps that id; a new one gets the next id after the model vocab and the
    /// added tokens so far). HF only warns on a mismatch and silently renumbers; we refuse.
    /// </summary>
    private static List<AddedToken> ReadAddedTokens(Json array, BpeModel model)
    {
        var byContent = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        var list = new List<AddedToken>();
        int modelSize = model.Vocab.Count;
        int maxAdded = -1;
        foreach (Json item in array.Items())
        {
            Json idJson = item.Get("id");
            var token = new AddedToken(
                idJson.Id(), item.Get("content").String(), item.BoolOr("special", false), item.BoolOr("single_word", false),
                item.BoolOr("lstrip", false), item.BoolOr("rstrip", false), item.BoolOr("normalized", !item.BoolOr("special", false)));
            if (token.Content.Length == 0) throw item.Get("content").Error("an added token cannot be empty");

            int expected;
            if (byContent.TryGetValue(token.Content, out AddedToken? earlier)) expected = earlier.Id;
            else if (model.Vocab.TryGetValue(token.Content, out int inVocab)) expected = inVocab;
            else expected = maxAdded >= modelSize || modelSize == 0 ? maxAdded + 1 : modelSize;
            if (token.Id != expected)
                throw idJson.Error($"added token \"{token.Content}\" has id {token.Id}, but Hugging Face tokenizers would give it id {expected}");

            if (earlier is not null) list.Remove(earlier);
            byContent[token.Content] = token;
            list.Add(token);
            maxAdded = Math.Max(maxAdded, token.Id);
        }
        return list.OrderBy(t => t.Id).ToList();
    }
}
