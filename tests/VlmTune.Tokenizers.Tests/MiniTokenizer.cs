using System.Text.Json.Nodes;

namespace VlmTune.Tokenizers.Tests;

/// <summary>
/// Builds small tokenizer.json documents for unit tests: the 256 byte-level symbols as ids 0..255 (id = byte value),
/// a ByteLevel pre-tokenizer and decoder, optional merges and added tokens (ids from 256 on).
/// </summary>
internal static class MiniTokenizer
{
    public static JsonObject Document(params JsonObject[] addedTokens)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteChar(b).ToString()] = b;
        var added = new JsonArray();
        foreach (JsonObject t in addedTokens) added.Add(t);
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false,
                ["vocab"] = vocab, ["merges"] = new JsonArray(),
            },
        };
    }

    public static JsonObject Added(int id, string content, bool special = false, bool singleWord = false,
        bool lstrip = false, bool rstrip = false, bool? normalized = null) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = singleWord, ["lstrip"] = lstrip, ["rstrip"] = rstrip,
        ["normalized"] = normalized ?? !special, ["special"] = special,
    };

    public static string Write(JsonNode doc, string name = "tokenizer.json")
    {
        string dir = Path.Combine(Path.GetTempPath(), "vlmtune-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, doc.ToJsonString());
        return path;
    }

    public static Tokenizer Load(JsonNode doc) => Tokenizer.FromFile(Write(doc));

    /// <summary>GPT-2 bytes_to_unicode for one byte.</summary>
    public static char ByteChar(int b)
    {
        int extra = 0;
        for (int k = 0; k < 256; k++)
        {
            bool printable = (k >= 33 && k <= 126) || (k >= 161 && k <= 172) || (k >= 174 && k <= 255);
            if (k == b) return printable ? (char)k : (char)(256 + extra);
            if (!printable) extra++;
        }
        throw new ArgumentOutOfRangeException(nameof(b));
    }

    /// <summary>Ids of plain text under the merge-free mini vocab: its UTF-8 bytes.</summary>
    public static int[] Bytes(string s) => System.Text.Encoding.UTF8.GetBytes(s).Select(b => (int)b).ToArray();
}
