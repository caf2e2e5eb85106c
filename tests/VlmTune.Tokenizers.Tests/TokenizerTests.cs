namespace VlmTune.Tokenizers.Tests;

/// <summary>Public API behaviour of <see cref="Tokenizer"/> on the committed fixtures.</summary>
public sealed class TokenizerTests
{
    private static Tokenizer Smol => Fixtures.Load("smolvlm-tiny");
    private static Tokenizer Gpt2 => Fixtures.Load("gpt2-style");

    [Theory]
    [InlineData("smolvlm-tiny")]
    [InlineData("gpt2-style")]
    public void Decode_of_encode_is_the_input_wherever_hf_round_trips(string name)
    {
        // gpt2-style loses information on purpose: NFC, and "<NOTE>" swallowing whitespace. Everything else round-trips.
        Tokenizer tok = Fixtures.Load(name);
        var expected = Fixtures.ExpectedFor(name);
        int checkedCount = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            string text = Fixtures.Corpus[i];
            if (expected[i].Decoded != text) continue;
            Assert.Equal(text, tok.Decode(tok.Encode(text, addSpecialTokens: false)));
            checkedCount++;
        }
        Assert.True(checkedCount > expected.Count * 9 / 10, $"only {checkedCount} strings round-trip in HF");
    }

    [Fact]
    public void SmolVlm_special_token_ids_follow_the_spec_layout()
    {
        // smolvlm.md §1.5: SmolLM2 specials 0..16, then <global-img>, 36 <row_r_col_c>, <fake_token_around_image>,
        // <image>, 88 reserved, <end_of_utterance>, appended after the model vocab (4,000 here, 49,152 in SmolVLM).
        Assert.Equal(0, Smol.TokenToId("<|endoftext|>"));
        Assert.Equal(1, Smol.TokenToId("<|im_start|>"));
        Assert.Equal(2, Smol.TokenToId("<|im_end|>"));
        Assert.Equal(4000, Smol.TokenToId("<global-img>"));
        Assert.Equal(4001, Smol.TokenToId("<row_1_col_1>"));
        Assert.Equal(4002, Smol.TokenToId("<row_1_col_2>"));
        Assert.Equal(4036, Smol.TokenToId("<row_6_col_6>"));
        Assert.Equal(4037, Smol.TokenToId("<fake_token_around_image>"));
        Assert.Equal(4038, Smol.TokenToId("<image>"));
        Assert.Equal(4039, Smol.TokenToId("<|reserved_special_token_0|>"));
        Assert.Equal(4127, Smol.TokenToId("<end_of_utterance>"));
        Assert.Equal(4128, Smol.VocabSize);
        Assert.All(Smol.AddedTokens, t => Assert.True(t.Special && !t.Normalized && !t.LStrip && !t.RStrip && !t.SingleWord));
    }

    [Fact]
    public void SmolVlm_adds_no_special_tokens_of_its_own()
    {
        const string prompt = "<|im_start|>User:<image>Can you describe this image?<end_of_utterance>\nAssistant:";
        int[] ids = Smol.Encode(prompt);
        Assert.Equal(ids, Smol.Encode(prompt, addSpecialTokens: false));
        Assert.Equal(1, ids[0]);
        Assert.Contains(4038, ids);
        Assert.Equal("User:Can you describe this image?\nAssistant:", Smol.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void SmolVlm_digits_are_split_one_by_one()
    {
        int[] ids = Smol.Encode("2024", addSpecialTokens: false);
        Assert.Equal(["2", "0", "2", "4"], ids.Select(id => Smol.IdToToken(id)));
    }

    [Fact]
    public void Gpt2_template_adds_bos_only_when_asked()
    {
        int bos = Gpt2.TokenToId("<|endoftext|>")!.Value;
        int[] plain = Gpt2.Encode("Hello world", addSpecialTokens: false);
        Assert.Equal([bos, .. plain], Gpt2.Encode("Hello world"));
        Assert.Equal([bos], Gpt2.Encode(""));
        Assert.Empty(Gpt2.Encode("", addSpecialTokens: false));
        Assert.Equal("<|endoftext|>Hello world", Gpt2.Decode(Gpt2.Encode("Hello world")));
    }

    [Fact]
    public void Decode_of_a_split_character_gives_replacement_characters()
    {
        int[] ids = Gpt2.Encode("\u2F9D", addSpecialTokens: false); // a rare 3-byte Kangxi radical
        Assert.Equal(3, ids.Length);
        Assert.Equal("\uFFFD", Gpt2.Decode(ids[..^1]));
        Assert.Equal("\uFFFD\uFFFD", Gpt2.Decode([ids[0], ids[0]]));
    }

    [Fact]
    public void Decode_rejects_unknown_ids()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Smol.Decode([1, 99999]));
        Assert.Contains("ids[1] = 99999", e.Message);
        Assert.Null(Smol.IdToToken(-1));
        Assert.Null(Smol.TokenToId("no such token"));
    }

    [Fact]
    public void Model_tokens_round_trip_through_the_lookups()
    {
        for (int id = 0; id < Smol.VocabSize; id++)
        {
            string token = Smol.IdToToken(id)!;
            Assert.Equal(id, Smol.TokenToId(token));
        }
    }
}
