namespace VlmTune.Tokenizers.Tests;

/// <summary>
/// Added-token matching rules of Hugging Face's AddedVocabulary, on a merge-free vocab where plain text encodes
/// to its UTF-8 bytes. Expected ids were derived from the Rust source and confirmed once with tokenizers 0.23.2.
/// </summary>
public sealed class AddedTokenTests
{
    private const int Mask = 256, R = 257, Ony = 258, A = 259, Ab = 260, Ny = 261, Norm = 262;

    private static readonly Tokenizer Tok = MiniTokenizer.Load(MiniTokenizer.Document(
        MiniTokenizer.Added(Mask, "<mask>", special: true, lstrip: true),
        MiniTokenizer.Added(R, "<r>", special: true, rstrip: true),
        MiniTokenizer.Added(Ony, "ony", singleWord: true, normalized: false),
        MiniTokenizer.Added(A, "<a>", special: true),
        MiniTokenizer.Added(Ab, "<a>b", special: true),
        MiniTokenizer.Added(Ny, "ny", normalized: false),
        MiniTokenizer.Added(Norm, "[n]", normalized: true)));

    private static int[] Ids(params object[] parts) =>
        parts.SelectMany(p => p is int id ? [id] : MiniTokenizer.Bytes((string)p)).ToArray();

    [Fact]
    public void Longest_match_wins_at_the_leftmost_position() =>
        Assert.Equal(Ids(Ab, "c", A, "c"), Tok.Encode("<a>bc<a>c"));

    [Fact]
    public void Lstrip_swallows_whitespace_on_the_left() =>
        Assert.Equal(Ids("a", Mask, "b"), Tok.Encode("a \t <mask>b"));

    [Fact]
    public void Rstrip_swallows_whitespace_on_the_right() =>
        Assert.Equal(Ids("a", R, "b"), Tok.Encode("a<r> \n b"));

    [Fact]
    public void Lstrip_never_reaches_into_the_previous_match() =>
        Assert.Equal(Ids(R, Mask), Tok.Encode("<r>  <mask>"));

    [Theory]
    [InlineData("ony x", true)]
    [InlineData("(ony)", true)]
    [InlineData("ony-", true)]
    [InlineData("😀ony", true)]
    [InlineData("anthony", false)]  // letter before; the discarded match also hides "ny" (scan resumes after it)
    [InlineData("ony_", false)]     // underscore is a word character
    [InlineData("éony", false)]
    [InlineData("\u0301ony", false)] // combining mark is a word character
    [InlineData("\u24D0ony", false)] // circled letter is Alphabetic
    [InlineData("\u200Dony", false)] // join control is a word character
    [InlineData("ony1", false)]
    public void Single_word_requires_non_word_neighbours(string text, bool matches)
    {
        int[] ids = Tok.Encode(text);
        Assert.Equal(matches, ids.Contains(Ony));
        if (!matches) Assert.DoesNotContain(Ny, ids);
    }

    [Fact]
    public void A_discarded_single_word_match_is_not_rescanned_for_shorter_tokens() =>
        Assert.Equal(MiniTokenizer.Bytes("bony"), Tok.Encode("bony"));

    [Fact]
    public void Shorter_token_matches_when_the_longer_one_is_absent() =>
        Assert.Equal(Ids("b", Ny), Tok.Encode("bny"));

    [Fact]
    public void Normalized_tokens_match_after_raw_ones() =>
        Assert.Equal(Ids("x", Norm, "y"), Tok.Encode("x[n]y"));

    [Fact]
    public void Decode_skips_only_special_tokens()
    {
        int[] ids = Tok.Encode("<mask>ony <a>z");
        Assert.Equal("<mask>ony <a>z", Tok.Decode(ids));
        Assert.Equal("ony z", Tok.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Added_tokens_are_listed_by_id_with_their_flags()
    {
        Assert.Equal([Mask, R, Ony, A, Ab, Ny, Norm], Tok.AddedTokens.Select(t => t.Id));
        AddedToken ony = Tok.AddedTokens.Single(t => t.Content == "ony");
        Assert.True(ony.SingleWord);
        Assert.False(ony.Special);
        Assert.Equal(Ony, Tok.TokenToId("ony"));
        Assert.Equal("<mask>", Tok.IdToToken(Mask));
        Assert.Equal(263, Tok.VocabSize);
    }
}
