using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VlmTune.Models.SmolVlm.Init;

/// <summary>
/// Stretches VlmTune's tiny tokenizer (BPE ids 0..3999, SmolLM2 base specials 0..16, the 128 SmolVLM added tokens
/// at 4000..4127) to the SmolVLM-256M/500M id layout (spec smolvlm.md §1.5): unreachable filler entries
/// "&lt;|vlmtune_filler_N|&gt;" take ids 4000..49151 of model.vocab (no merge produces them, so encoding is unchanged)
/// and every added token at or above 4000 moves up by 49152 − 4000, giving &lt;global-img&gt; = 49152,
/// &lt;image&gt; = 49190 and &lt;end_of_utterance&gt; = 49279 (vocab 49280).
/// </summary>
public static class TokenizerVocabLayout
{
    /// <summary>SmolLM2's base vocabulary size: the first SmolVLM added token's id.</summary>
    public const int BaseVocab = 49152;

    /// <summary>The filler token for id <paramref name="id"/>.</summary>
    public static string Filler(int id) => $"<|vlmtune_filler_{id}|>";

    /// <summary>Returns the tokenizer.json text with the base vocabulary padded to <paramref name="baseVocab"/> ids.</summary>
    /// <exception cref="FormatException">The input is not a BPE tokenizer.json with a dense vocab 0..N−1.</exception>
    public static string Stretch(string tokenizerJson, int baseVocab = BaseVocab)
    {
        var root = JsonNode.Parse(tokenizerJson) as JsonObject ?? throw new FormatException("tokenizer.json: expected a JSON object");
        var vocab = root["model"]?["vocab"] as JsonObject ?? throw new FormatException("tokenizer.json: no model.vocab object");
        int size = vocab.Count;
        var seen = new bool[size];
        foreach (var (token, value) in vocab)
        {
            int id = value?.GetValue<int>() ?? -1;
            if (id < 0 || id >= size || seen[id])
                throw new FormatException($"tokenizer.json: model.vocab \"{token}\" has id {id}; expected the dense ids 0..{size - 1}");
            seen[id] = true;
        }
        if (size > baseVocab) throw new FormatException($"tokenizer.json: model.vocab has {size} entries, more than the {baseVocab} to stretch to");
        for (int id = size; id < baseVocab; id++) vocab[Filler(id)] = id;

        int shift = baseVocab - size;
        var added = root["added_tokens"] as JsonArray ?? throw new FormatException("tokenizer.json: no added_tokens array");
        foreach (var node in added)
        {
            var token = node as JsonObject ?? throw new FormatException("tokenizer.json: added_tokens holds a non-object");
            int id = token["id"]?.GetValue<int>() ?? throw new FormatException("tokenizer.json: an added token has no id");
            if (id >= size) token["id"] = id + shift;
        }
        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        return root.ToJsonString(options) + "\n";
    }
}
