using System.Text;
using Xunit.Abstractions;

namespace VlmTune.Tokenizers.Tests;

/// <summary>Every corpus string must give exactly Hugging Face's ids and decoded text (fixtures from the HF oracle).</summary>
public sealed class HfParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Names => new() { "smolvlm-tiny", "gpt2-style" };

    [Theory, MemberData(nameof(Names))]
    public void Encode_matches_hf_on_the_whole_corpus(string name)
    {
        Tokenizer tok = Fixtures.Load(name);
        var expected = Fixtures.ExpectedFor(name);
        var failures = new List<string>();
        for (int i = 0; i < expected.Count; i++)
        {
            string text = Fixtures.Corpus[i];
            int[] plain = tok.Encode(text, addSpecialTokens: false);
            int[] withSpecial = tok.Encode(text, addSpecialTokens: true);
            if (!plain.SequenceEqual(expected[i].Ids)) failures.Add(Describe(i, text, "plain", expected[i].Ids, plain));
            if (!withSpecial.SequenceEqual(expected[i].WithSpecial))
                failures.Add(Describe(i, text, "with special", expected[i].WithSpecial, withSpecial));
        }
        foreach (string f in failures.Take(15)) output.WriteLine(f);
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches; first: {failures.FirstOrDefault()}");
    }

    [Theory, MemberData(nameof(Names))]
    public void Decode_matches_hf_on_the_whole_corpus(string name)
    {
        Tokenizer tok = Fixtures.Load(name);
        var expected = Fixtures.ExpectedFor(name);
        var failures = new List<string>();
        for (int i = 0; i < expected.Count; i++)
        {
            string decoded = tok.Decode(expected[i].Ids);
            string skipped = tok.Decode(expected[i].Ids, skipSpecialTokens: true);
            if (decoded != expected[i].Decoded) failures.Add($"#{i} decode: {Show(expected[i].Decoded)} vs {Show(decoded)}");
            if (skipped != expected[i].DecodedSkip) failures.Add($"#{i} decode(skip): {Show(expected[i].DecodedSkip)} vs {Show(skipped)}");
        }
        foreach (string f in failures.Take(15)) output.WriteLine(f);
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches; first: {failures.FirstOrDefault()}");
    }

    [Theory, MemberData(nameof(Names))]
    public void EncodeBatch_equals_one_by_one(string name)
    {
        Tokenizer tok = Fixtures.Load(name);
        var texts = Fixtures.Corpus.Take(300).ToList();
        int[][] batch = tok.EncodeBatch(texts);
        for (int i = 0; i < texts.Count; i++) Assert.Equal(tok.Encode(texts[i]), batch[i]);
    }

    private static string Describe(int i, string text, string mode, int[] expected, int[] actual)
    {
        int k = 0;
        while (k < expected.Length && k < actual.Length && expected[k] == actual[k]) k++;
        return $"#{i} {mode} {Show(text)}: first difference at {k}: HF [{string.Join(",", expected.Skip(Math.Max(0, k - 2)).Take(6))}] " +
            $"ours [{string.Join(",", actual.Skip(Math.Max(0, k - 2)).Take(6))}]";
    }

    private static string Show(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s.Length > 80 ? s[..80] : s)
            sb.Append(c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ? $"\\u{(int)c:x4}" : c.ToString());
        return sb.Append('"').ToString();
    }
}
