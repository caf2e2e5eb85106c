using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using VlmTune.Models.SmolVlm;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Bench;

/// <summary>
/// The `decode` verb: greedy decoding on a checkpoint folder (e.g. `vlmtune init --like smolvlm-256m`), a text prompt
/// of --prompt random ids (the 256M's one-image prompt is ~1,160 tokens, hence 1,024 by default) and --new tokens,
/// with the preallocated KV cache (A) and the per-token concatenating one (B), interleaved --rounds times in this
/// process. Decode tokens/s counts the tokens after the first (the first comes out of the prefill); A and B must
/// produce the same tokens. --dump FILE writes {"prompt": [ids], "tokens": [the last round's preallocated tokens]} as
/// JSON, for the PyTorch decode peer (bench/peer/smolvlm_decode.py) to decode the same prompt and compare its tokens.
/// </summary>
public static class DecodeBench
{
    public static int Run(string modelDir, int promptLength, int newTokens, int rounds, int threads, string? dump = null)
    {
        if (!File.Exists(Path.Combine(modelDir, "config.json"))) throw new BenchUsageException($"{modelDir}: no config.json (a checkpoint folder is needed)");
        var device = new CpuBackend(threads).AsDevice();
        var model = SmolVlmModel.Load(modelDir, device, out _);
        var rng = new Random(5);
        var prompt = new SmolVlmInputs
        {
            InputIds = Enumerable.Range(0, promptLength).Select(_ => (long)rng.Next(100, model.Config.Text.VocabSize - 100)).ToArray(),
            Batch = 1,
        };
        var options = new GenerationOptions { MaxNewTokens = newTokens };
        Console.Error.WriteLine($"# decode model={modelDir} layers={model.Config.Text.NumHiddenLayers} d={model.Config.Text.HiddenSize} " +
            $"prompt={promptLength} new={newTokens} threads={threads} compute={model.ComputeDType.Name()}");
        Measure(model, prompt, options with { MaxNewTokens = 4 }, KvCacheLayout.Preallocated); // warm-up (JIT)
        long[] last = [];
        for (int round = 1; round <= rounds; round++)
        {
            var (a, aTokens, aPrefill) = Measure(model, prompt, options, KvCacheLayout.Preallocated);
            var (b, bTokens, bPrefill) = Measure(model, prompt, options, KvCacheLayout.Concatenated);
            last = aTokens;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"decode rep={round} prompt={promptLength} new={newTokens} preallocated_tokens_per_s={a:F2} concatenated_tokens_per_s={b:F2} " +
                $"ratio={a / b:F3} prefill_s={aPrefill:F2}/{bPrefill:F2} identical={aTokens.SequenceEqual(bTokens)}"));
            Console.Out.Flush();
        }
        if (dump is not null)
        {
            string temp = dump + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(new { prompt = prompt.InputIds, tokens = last }));
            File.Move(temp, dump, overwrite: true);
        }
        return 0;
    }

    /// <summary>Decode tokens/s (after the first token), the tokens, and the prefill seconds.</summary>
    static (double TokensPerSecond, long[] Tokens, double Prefill) Measure(SmolVlmModel model, SmolVlmInputs prompt, GenerationOptions options, KvCacheLayout layout)
    {
        var stamps = new List<long>();
        long start = Stopwatch.GetTimestamp();
        var (tokens, _) = Generator.Generate(model, prompt, options with { CacheLayout = layout, OnToken = _ => stamps.Add(Stopwatch.GetTimestamp()) });
        double decode = Stopwatch.GetElapsedTime(stamps[0], stamps[^1]).TotalSeconds;
        return ((stamps.Count - 1) / decode, tokens, Stopwatch.GetElapsedTime(start, stamps[0]).TotalSeconds);
    }
}
