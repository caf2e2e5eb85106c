using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace VlmTune.Tokenizers.Tests;

/// <summary>
/// Measures single-thread encode throughput on the mixed corpus (English, Vietnamese, Chinese, emoji, code,
/// special tokens). Prints MB/s; asserts nothing about speed. "Cold" uses a freshly loaded tokenizer (after a JIT
/// warm-up), so every distinct word goes through BPE once; "warm" re-encodes with the word cache filled.
/// </summary>
[Collection(nameof(ThroughputTests))]
public sealed class ThroughputTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("smolvlm-tiny")]
    [InlineData("gpt2-style")]
    public void Encode_throughput_on_mixed_text(string name)
    {
        var texts = Fixtures.Corpus;
        double mb = texts.Sum(t => Encoding.UTF8.GetByteCount(t)) / 1e6;
        double bestCold = double.MaxValue, bestWarm = double.MaxValue;
        long tokens = 0;
        // JIT warm-up (tiered compilation) on a throwaway instance, so "cold" measures only the empty word cache.
        Tokenizer warmup = Tokenizer.FromFile(Fixtures.TokenizerPath(name));
        for (int k = 0; k < 3; k++) foreach (string t in texts) warmup.Encode(t);
        for (int round = 0; round < 3; round++)
        {
            Tokenizer tok = Tokenizer.FromFile(Fixtures.TokenizerPath(name));
            var sw = Stopwatch.StartNew();
            tokens = 0;
            foreach (string t in texts) tokens += tok.Encode(t).Length;
            bestCold = Math.Min(bestCold, sw.Elapsed.TotalSeconds);
            sw.Restart();
            int passes = 0;
            while (sw.Elapsed.TotalSeconds < 1.0 || passes < 2)
            {
                foreach (string t in texts) tok.Encode(t);
                passes++;
            }
            bestWarm = Math.Min(bestWarm, sw.Elapsed.TotalSeconds / passes);
        }
        string line = $"[bench] {name}: {mb:F3} MB, {texts.Count} strings, {tokens} tokens; " +
            $"cold {mb / bestCold:F2} MB/s, warm {mb / bestWarm:F2} MB/s (one thread, best of 3; load average " +
            $"{LoadAverage()})";
        output.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(tokens > 0);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
}

/// <summary>Runs the throughput test alone, not next to the other test classes.</summary>
[CollectionDefinition(nameof(ThroughputTests), DisableParallelization = true)]
public sealed class ThroughputCollection;
