using System.Text.Json.Nodes;

namespace VlmTune.Tokenizers.Tests;

/// <summary>Malformed or unsupported tokenizer.json files fail with the file and the JSON path of the field.</summary>
public sealed class TokenizerFormatTests
{
    private static TokenizerFormatException Fails(JsonNode doc)
    {
        string path = MiniTokenizer.Write(doc);
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromFile(path));
        Assert.Equal(path, e.File);
        Assert.StartsWith(path + ": " + e.JsonPath + ": ", e.Message);
        return e;
    }

    private static JsonObject Doc() => MiniTokenizer.Document();

    [Fact]
    public void Invalid_json_names_line_and_byte()
    {
        string path = MiniTokenizer.Write(JsonValue.Create("x")!);
        File.WriteAllText(path, "{\n  \"model\": [1, 2,,]\n}");
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromFile(path));
        Assert.Equal("$", e.JsonPath);
        Assert.Contains("line 2", e.Message);
    }

    [Fact]
    public void Missing_model()
    {
        var doc = Doc();
        doc.Remove("model");
        Assert.Equal("$.model", Fails(doc).JsonPath);
    }

    [Fact]
    public void Merge_with_unknown_token()
    {
        var doc = Doc();
        doc["model"]!["merges"] = new JsonArray("a b", "a zz");
        var e = Fails(doc);
        Assert.Equal("$.model.merges[0]", e.JsonPath); // "ab" itself is not in the vocab
        Assert.Contains("\"ab\"", e.Problem);
    }

    [Fact]
    public void Merge_string_without_single_space()
    {
        var doc = Doc();
        doc["model"]!["merges"] = new JsonArray("abc");
        Assert.Equal("$.model.merges[0]", Fails(doc).JsonPath);
    }

    [Fact]
    public void Merge_pair_of_wrong_length()
    {
        var doc = Doc();
        doc["model"]!["merges"] = new JsonArray(new JsonArray("a", "b", "c"));
        Assert.Equal("$.model.merges[0]", Fails(doc).JsonPath);
    }

    [Fact]
    public void Vocab_id_of_wrong_type()
    {
        var doc = Doc();
        doc["model"]!["vocab"]!["a"] = "one";
        Assert.Equal("$.model.vocab[\"a\"]", Fails(doc).JsonPath);
    }

    [Fact]
    public void Byte_fallback_is_refused()
    {
        var doc = Doc();
        doc["model"]!["byte_fallback"] = true;
        Assert.Equal("$.model.byte_fallback", Fails(doc).JsonPath);
    }

    [Theory]
    [InlineData("normalizer", "Lowercase", "$.normalizer")]
    [InlineData("pre_tokenizer", "Metaspace", "$.pre_tokenizer")]
    [InlineData("post_processor", "RobertaProcessing", "$.post_processor")]
    [InlineData("decoder", "WordPiece", "$.decoder")]
    public void Unknown_component_type_is_named(string field, string type, string path)
    {
        var doc = Doc();
        doc[field] = new JsonObject { ["type"] = type };
        var e = Fails(doc);
        Assert.Equal(path, e.JsonPath);
        Assert.Contains($"\"{type}\"", e.Problem);
    }

    [Fact]
    public void Unknown_type_inside_a_sequence_names_its_index()
    {
        var doc = Doc();
        doc["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(new JsonObject { ["type"] = "Digits", ["individual_digits"] = true }, new JsonObject { ["type"] = "Whitespace" }),
        };
        Assert.Equal("$.pre_tokenizer.pretokenizers[1]", Fails(doc).JsonPath);
    }

    [Fact]
    public void Added_token_id_that_hf_would_renumber()
    {
        var doc = MiniTokenizer.Document(MiniTokenizer.Added(300, "<x>", special: true));
        var e = Fails(doc);
        Assert.Equal("$.added_tokens[0].id", e.JsonPath);
        Assert.Contains("256", e.Problem);
    }

    [Fact]
    public void Template_with_unknown_special_token()
    {
        var doc = Doc();
        doc["post_processor"] = JsonNode.Parse("""
            {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [], "special_tokens": {}}
            """);
        Assert.Equal("$.post_processor.single[0].SpecialToken.id", Fails(doc).JsonPath);
    }

    [Fact]
    public void Missing_file_and_directory()
    {
        Assert.Throws<FileNotFoundException>(() => Tokenizer.FromFile("/nonexistent/tokenizer.json"));
        var e = Assert.Throws<FileNotFoundException>(() => Tokenizer.FromDirectory(Path.GetTempPath()));
        Assert.Contains("tokenizer.json", e.Message);
    }
}
