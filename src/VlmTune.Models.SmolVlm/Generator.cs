using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;

namespace VlmTune.Models.SmolVlm;

/// <summary>Decoding settings: greedy when <see cref="Temperature"/> is 0, else seeded temperature + top-p sampling.</summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 64;
    public float Temperature { get; init; }
    public float TopP { get; init; } = 1f;
    public ulong Seed { get; init; }
    /// <summary>Generation stops after emitting one of these (e.g. `&lt;end_of_utterance&gt;`).</summary>
    public IReadOnlyList<long> StopTokenIds { get; init; } = [];
    /// <summary>Re-run the whole sequence each step instead of using the KV cache (for checking the cache).</summary>
    public bool NoCache { get; init; }
    /// <summary>Called with each generated token as soon as it is picked (streaming output).</summary>
    public Action<long>? OnToken { get; init; }
}

/// <summary>
/// KV-cache decoding for one sequence: prefill the prompt (images merged), then one token per step. Each step's
/// logits are returned too, so tests can compare cached and uncached decoding.
/// </summary>
public static class Generator
{
    public static (long[] Tokens, List<float[]> StepLogits) Generate(SmolVlmModel model, SmolVlmInputs prompt, GenerationOptions options)
    {
        if (prompt.Batch != 1) throw new ModelInputException($"generation takes one sequence, got a batch of {prompt.Batch}");
        if (prompt.AttentionMask != null && prompt.AttentionMask.Any(m => m == 0))
            throw new ModelInputException("generation takes an unpadded prompt (its attention mask has zeros)");
        prompt = prompt with { AttentionMask = null };
        using var _ = GradMode.NoGrad();
        var tokens = new List<long>();
        var logitsPerStep = new List<float[]>();
        var cache = options.NoCache ? null : new KvCache(model.Config.Text.NumHiddenLayers);
        var logits = model.Forward(prompt, cache, lastPositionOnly: true);
        var all = prompt.InputIds.ToList();
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            var row = logits.ToFloatArray();
            logitsPerStep.Add(row);
            long next = Pick(row, options, step);
            tokens.Add(next);
            options.OnToken?.Invoke(next);
            all.Add(next);
            if (options.StopTokenIds.Contains(next) || step == options.MaxNewTokens - 1) break;
            if (cache != null)
            {
                var embeds = Ops.Embedding(Ops.FromArray(new[] { next }, new Shape(1, 1), model.Device), model.Text.EmbedTokens, model.ComputeDType);
                logits = model.Decode(embeds, 1, null, cache, lastPositionOnly: true);
            }
            else
            {
                logits = model.Forward(prompt with { InputIds = all.ToArray() }, null, lastPositionOnly: true);
            }
        }
        return (tokens.ToArray(), logitsPerStep);
    }

    static long Pick(float[] logits, GenerationOptions o, int step)
    {
        if (o.Temperature <= 0f)
        {
            int best = 0;
            for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
            return best;
        }
        // Softmax at temperature, then the smallest set of tokens whose mass reaches top-p, sampled with Philox.
        double max = logits.Max();
        var probs = logits.Select(v => Math.Exp((v - max) / o.Temperature)).ToArray();
        double sum = probs.Sum();
        var order = Enumerable.Range(0, probs.Length).OrderByDescending(i => probs[i]).ToArray();
        double mass = 0;
        int keep = 0;
        while (keep < order.Length && (keep == 0 || mass < o.TopP * sum)) mass += probs[order[keep++]];
        double u = Philox.Uniform(o.Seed, (ulong)step) * mass;
        for (int i = 0; i < keep; i++)
        {
            u -= probs[order[i]];
            if (u <= 0) return order[i];
        }
        return order[keep - 1];
    }
}
