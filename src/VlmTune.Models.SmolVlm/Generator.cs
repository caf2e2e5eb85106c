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
    /// <summary>How the KV cache grows: preallocated for prompt + <see cref="MaxNewTokens"/> (the default), or the
    /// per-token concatenation kept as the reference for tests and the decode benchmark.</summary>
    public KvCacheLayout CacheLayout { get; init; } = KvCacheLayout.Preallocated;
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
        var cache = options.NoCache ? null
            : new KvCache(model.Config.Text.NumHiddenLayers, prompt.InputIds.Length + options.MaxNewTokens, options.CacheLayout);
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

    /// <summary>
    /// Decodes several prompts at once (each a batch of 1, unpadded): left-padded to the longest with a masked pad id,
    /// their tiles stacked with all-zero padding tiles, one KV cache for the batch; each row stops at its own stop token.
    /// Rotary embeddings are relative, so a row's scores equal its unbatched ones up to float rounding; a fully masked
    /// (pad) query row attends to nothing and outputs 0. Returns the tokens of each prompt (stop token included).
    /// </summary>
    public static long[][] GenerateBatch(SmolVlmModel model, IReadOnlyList<SmolVlmInputs> prompts, GenerationOptions options, long padId = 0)
    {
        if (prompts.Count == 0) return [];
        if (prompts.Count == 1) return [Generate(model, prompts[0], options).Tokens];
        foreach (var p in prompts)
            if (p.Batch != 1 || (p.AttentionMask != null && p.AttentionMask.Any(m => m == 0)))
                throw new ModelInputException("batched generation takes unpadded prompts of one sequence each");
        int b = prompts.Count, l = prompts.Max(p => p.Length);
        int tiles = prompts.Max(p => p.PixelValues == null ? 0 : p.TilesPerSample);
        int size = prompts.FirstOrDefault(p => p.PixelValues != null)?.TileSize ?? 0;
        var ids = new long[b * l];
        var mask = new List<long>[b];
        float[]? pixels = tiles == 0 ? null : new float[b * tiles * 3 * size * size];
        for (int r = 0; r < b; r++)
        {
            var p = prompts[r];
            int pad = l - p.Length;
            Array.Fill(ids, padId, r * l, pad);
            p.InputIds.CopyTo(ids, r * l + pad);
            mask[r] = [.. Enumerable.Repeat(0L, pad), .. Enumerable.Repeat(1L, p.Length)];
            if (p.PixelValues != null && pixels != null)
            {
                if (p.TileSize != size) throw new ModelInputException($"batched generation: tile sizes {p.TileSize} and {size} differ");
                p.PixelValues.CopyTo(pixels, r * tiles * 3 * size * size);   // then all-zero (padding) tiles
            }
        }
        using var _ = GradMode.NoGrad();
        var cache = new KvCache(model.Config.Text.NumHiddenLayers, l + options.MaxNewTokens, options.CacheLayout);
        long[] Mask() => mask.SelectMany(m => m).ToArray();
        var logits = model.Forward(new SmolVlmInputs
        {
            InputIds = ids, Batch = b, AttentionMask = Mask(), PixelValues = pixels, TilesPerSample = tiles, TileSize = size,
        }, cache, lastPositionOnly: true);                                                 // (B, 1, V)
        var tokens = Enumerable.Range(0, b).Select(_ => new List<long>()).ToArray();
        var done = new bool[b];
        int v = model.Config.Text.VocabSize;
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            var flat = logits.ToFloatArray();
            var next = new long[b];
            var finished = (bool[])done.Clone();                                             // rows fed a masked pad from now on
            for (int r = 0; r < b; r++)
            {
                if (done[r]) { next[r] = padId; continue; }
                next[r] = Pick(flat[(r * v)..((r + 1) * v)], options, step);
                tokens[r].Add(next[r]);
                if (options.StopTokenIds.Contains(next[r])) done[r] = true;
            }
            if (done.All(d => d) || step == options.MaxNewTokens - 1) break;
            for (int r = 0; r < b; r++) mask[r].Add(finished[r] ? 0 : 1);
            var embeds = Ops.Embedding(Ops.FromArray(next, new Shape(b, 1), model.Device), model.Text.EmbedTokens, model.ComputeDType);
            logits = model.Decode(embeds, b, Mask(), cache, lastPositionOnly: true);
        }
        return tokens.Select(t => t.ToArray()).ToArray();
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
