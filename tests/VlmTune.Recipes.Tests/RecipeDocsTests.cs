namespace VlmTune.Recipes.Tests;

public class RecipeDocsTests
{
    [Fact]
    public void Lists_every_key_with_type_default_and_meaning()
    {
        string text = RecipeDocs.Describe();
        Assert.Equal(65, RecipeDocs.Keys.Count);
        foreach (var k in RecipeDocs.Keys)
        {
            Assert.Contains($"  {k.Path}  [{k.Type}]  default {k.Default}\n", text);
            Assert.False(string.IsNullOrWhiteSpace(k.Meaning), k.Path);
        }
    }

    [Theory]
    [InlineData("lora.r", "integer, >= 1", "8")]
    [InlineData("kind", "sft | dpo", "sft")]
    [InlineData("model.path", "path", "(required)")]
    [InlineData("data.eval", "path | null", "null")]
    [InlineData("train.lr", "number, > 0", "0.0001")]
    [InlineData("quantization.blocksize", "integer, a power of two in 32..4096", "64")]
    [InlineData("lora.towers", "list of text | vision | connector, a non-empty list without repeats", "[text]")]
    [InlineData("dpo.beta", "number, > 0", "0.1")]
    [InlineData("train.compute_dtype", "auto | f32 | bf16", "auto")]
    [InlineData("data.workers", "auto | integer, auto or >= 0", "auto")]
    [InlineData("data.prefetch", "integer, >= 1", "2")]
    [InlineData("data.group_by_length", "true | false", "false")]
    [InlineData("data.feature_cache", "true | false", "true")]
    public void Key_rows_come_from_the_schema(string path, string type, string dflt)
    {
        var k = Assert.Single(RecipeDocs.Keys, k => k.Path == path);
        Assert.Equal((type, dflt), (k.Type, k.Default));
    }

    [Fact]
    public void Docs_keys_are_exactly_the_keys_the_loader_accepts()
    {
        foreach (var k in RecipeDocs.Keys)
        {
            var e = Record.Exception(() => RecipeTestSupport.Parse(RecipeTestSupport.Minimal, $"{k.Path}=[[[not a value"));
            var re = Assert.IsType<RecipeException>(e);
            Assert.DoesNotContain("unknown key", re.Message);
        }
    }
}
