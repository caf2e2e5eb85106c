using VlmTune.Recipes.Schema;

namespace VlmTune.Recipes.Tests.Schema;

public class KeySuggesterTests
{
    [Theory]
    [InlineData("lora.rr", "lora.r")]
    [InlineData("lora.alhpa", "lora.alpha")]
    [InlineData("trian.lr", "train.lr")]
    [InlineData("seeed", "seed")]
    [InlineData("lora.lora_alpha", "lora.alpha")]
    [InlineData("gradient_accumulation_steps", "train.grad_accum")]
    [InlineData("data.batch_size", "train.batch_size")]
    [InlineData("qunatization", "quantization")]
    public void Suggests(string unknown, string expected) => Assert.Equal(expected, KeySuggester.Suggest(unknown));

    [Fact]
    public void No_suggestion_when_nothing_is_close() => Assert.Null(KeySuggester.Suggest("completely.unrelated_thing"));

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("abc", "abc", 0)]
    [InlineData("ab", "ba", 1)]
    [InlineData("kitten", "sitting", 3)]
    public void Distance(string a, string b, int d) => Assert.Equal(d, KeySuggester.Distance(a, b));
}
