using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Data.Tests.Support;

namespace VlmTune.Data.Tests.Encoding;

public class PreferenceEncoderTests
{
    static List<EncodedPair?> EncodeFixture(SmolVlmProcessor? processor = null, EncodingOptions? options = null)
    {
        var encoder = new PreferenceEncoder(processor ?? TestData.Tiny, options);
        using var ds = DatasetReader.OpenPreference(Path.Combine(TestData.FixtureDir, "dpo.jsonl"));
        return Enumerable.Range(0, ds.Count).Select(i => encoder.Encode(ds.Read(i))).ToList();
    }

    static string Decode(int[] ids) => TestData.Tiny.Tokenizer.Decode(ids);

    [Fact]
    public void Prompt_is_shared_and_completions_end_with_the_end_of_turn()
    {
        var pairs = EncodeFixture();
        var first = pairs[0]!;
        Assert.EndsWith("Is this image wide?<end_of_utterance>\nAssistant:", Decode(first.PromptIds));
        Assert.StartsWith("<|im_start|>User:<fake_token_around_image><row_1_col_1>", Decode(first.PromptIds));
        Assert.Equal(" Yes, it is wider than tall.<end_of_utterance>", Decode(first.ChosenIds));
        Assert.Equal(" No.<end_of_utterance>", Decode(first.RejectedIds));
        Assert.Equal(" No, it is tall.<end_of_utterance>", Decode(pairs[1]!.ChosenIds));
    }

    [Fact]
    public void Images_are_processed_once_per_pair()
    {
        var first = EncodeFixture()[0]!;
        Assert.Equal(5, first.Images!.TileCount);
        Assert.Equal(20, first.PromptIds.Count(id => id == TestData.Tiny.TokenIds.Image));
        Assert.DoesNotContain(first.ChosenIds, TestData.Tiny.TokenIds.IsImageRelated);
        Assert.DoesNotContain(first.RejectedIds, TestData.Tiny.TokenIds.IsImageRelated);
    }

    [Fact]
    public void Overflow_policies()
    {
        var pair = EncodeFixture()[0]!;
        int tight = pair.Length - 1;
        Assert.Contains("dpo.jsonl:1: pair is", Assert.Throws<DatasetRecordException>(() => EncodeFixture(TestData.Tiny.WithMaxLength(tight))).Message);
        Assert.Null(EncodeFixture(TestData.Tiny.WithMaxLength(tight), new EncodingOptions { Overflow = OverflowPolicy.Drop })[0]);

        var shrunk = EncodeFixture(TestData.Tiny.WithMaxLength(tight), new EncodingOptions { Overflow = OverflowPolicy.ShrinkImages })[0]!;
        Assert.True(shrunk.ShrunkImages);
        Assert.Equal(1, shrunk.Images!.TileCount);

        var cut = EncodeFixture(TestData.Tiny.WithMaxLength(tight), new EncodingOptions { TruncateText = true })[0]!;
        Assert.True(cut.Truncated);
        Assert.Equal(pair.PromptIds, cut.PromptIds);
        Assert.Equal(tight, cut.Length);

        // The prompt itself (with its images) is never cut.
        var e = Assert.Throws<DatasetRecordException>(() => EncodeFixture(TestData.Tiny.WithMaxLength(pair.PromptIds.Length), new EncodingOptions { TruncateText = true }));
        Assert.Contains("more than the max length", e.Message);
    }
}
