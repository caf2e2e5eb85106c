using System.Text.Json.Nodes;

namespace VlmTune.Tokenizers.Tests.Pipeline;

/// <summary>
/// Paths the two fixtures do not take: ByteLevel(add_prefix_space=true), which prefixes a space to every piece
/// left by the previous pre-tokenizer, and Digits(individual_digits=false), which keeps digit runs together.
/// Expected ids were produced once with Hugging Face tokenizers 0.23.2 on the same document.
/// </summary>
public sealed class PreTokenizerTests
{
    private static readonly Tokenizer Tok = Build();

    private static Tokenizer Build()
    {
        JsonObject doc = MiniTokenizer.Document();
        doc["pre_tokenizer"] = JsonNode.Parse("""
            {"type": "Sequence", "pretokenizers": [
              {"type": "Digits", "individual_digits": false},
              {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}]}
            """);
        JsonNode model = doc["model"]!;
        model["vocab"]!["Ġa"] = 256;
        model["vocab"]!["12"] = 257;
        model["merges"] = JsonNode.Parse("""[["Ġ", "a"], ["1", "2"]]""");
        return MiniTokenizer.Load(doc);
    }

    [Theory]
    [InlineData("a", new[] { 256 })]
    [InlineData(" a", new[] { 256 })]
    [InlineData("a12a", new[] { 256, 32, 257, 256 })]
    [InlineData("x 12 a", new[] { 32, 120, 32, 32, 257, 256 })]
    [InlineData("123", new[] { 32, 257, 51 })]
    public void Matches_hf(string text, int[] expected) => Assert.Equal(expected, Tok.Encode(text));
}
