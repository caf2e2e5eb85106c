namespace VlmTune.Tokenizers.Tests;

/// <summary>
/// transformers' decode-time clean-up (clean_up_tokenization in tokenization_utils_base.py, applied when
/// tokenizer_config.json sets clean_up_tokenization_spaces): the replacement list and where it applies.
/// </summary>
public class CleanUpTokenizationTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-cleanup-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }

    [Theory]
    [InlineData("x ?? null", "x?? null")]
    [InlineData("Hello , world ! Is it ? Yes .", "Hello, world! Is it? Yes.")]
    [InlineData("I do n't know , I 'm sure it 's what we 've said they 're", "I don't know, I'm sure it's what we've said they're")]
    [InlineData("rock ' n roll", "rock'n roll")]
    [InlineData("  leading and trailing  ", "  leading and trailing  ")]   // no strip, unlike some ports
    [InlineData("a  .", "a .")]                                              // one space per replacement, left to right
    public void Matches_transformers_replacements(string input, string expected) =>
        Assert.Equal(expected, Tokenizer.CleanUpTokenization(input));

    [Fact]
    public void Decode_follows_tokenizer_config()
    {
        string model = Path.Combine(Fixtures.Dir, "..", "model", "tiny");
        foreach (bool flag in new[] { true, false })
        {
            string dir = Path.Combine(_tmp, flag.ToString());
            Directory.CreateDirectory(dir);
            File.Copy(Path.Combine(model, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), $$"""{"clean_up_tokenization_spaces": {{(flag ? "true" : "false")}}}""");
            var tokenizer = Tokenizer.FromDirectory(dir);
            Assert.Equal(flag, tokenizer.CleanUpTokenizationSpaces);
            var ids = tokenizer.Encode("x ?? null", addSpecialTokens: false);
            Assert.Equal(flag ? "x?? null" : "x ?? null", tokenizer.Decode(ids));
            Assert.Equal("x ?? null", tokenizer.Decode(ids, skipSpecialTokens: false, cleanUpTokenizationSpaces: false));
        }
        Directory.CreateDirectory(Path.Combine(_tmp, "none"));
        File.Copy(Path.Combine(model, "tokenizer.json"), Path.Combine(_tmp, "none", "tokenizer.json"));
        Assert.False(Tokenizer.FromDirectory(Path.Combine(_tmp, "none")).CleanUpTokenizationSpaces);   // absent → false (current default)
    }
}
