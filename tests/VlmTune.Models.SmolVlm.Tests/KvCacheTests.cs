using VlmTune.Models.SmolVlm.Tests.Support;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests;

public class KvCacheTests
{
    static SmolVlmInputs Prompt(SmolVlmModel m, int tiles, int text, ulong seed)
    {
        var rng = new Random((int)seed);
        int size = m.Config.Vision.ImageSize;
        var ids = Enumerable.Range(0, text).Select(_ => (long)rng.Next(3, 200))
            .Concat(Enumerable.Repeat((long)m.Config.ImageTokenId, tiles * m.Config.ImageSeqLen)).ToArray();
        var pixels = Ops.RandomUniform(new Shape(tiles * 3 * size * size), seed, CpuBackend.Device, -1f, 1f).ToArray<float>();
        return new SmolVlmInputs { InputIds = ids, Batch = 1, PixelValues = tiles > 0 ? pixels : null, TilesPerSample = tiles, TileSize = size };
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.BF16)]
    public void Preallocated_cache_decodes_bit_identically_to_the_concatenating_cache(DType compute)
    {
        var m = TinyModel.Create();
        m.ComputeDType = compute;
        var prompt = Prompt(m, 1, 6, 11);
        var opts = new GenerationOptions { MaxNewTokens = 24 };
        var (tokens, logits) = Generator.Generate(m, prompt, opts);
        var (before, beforeLogits) = Generator.Generate(m, prompt, opts with { CacheLayout = KvCacheLayout.Concatenated });
        Assert.Equal(24, tokens.Length);
        Assert.Equal(before, tokens);
        for (int s = 0; s < logits.Count; s++) Assert.Equal(beforeLogits[s], logits[s]);   // bitwise: same kernels, same order
    }

    [Fact]
    public void Batched_decoding_with_a_key_mask_is_bit_identical_to_the_concatenating_cache()
    {
        var m = TinyModel.Create();
        var prompts = new[] { Prompt(m, 0, 9, 1), Prompt(m, 1, 3, 2), Prompt(m, 0, 2, 3) };
        var opts = new GenerationOptions { MaxNewTokens = 10 };
        var tokens = Generator.GenerateBatch(m, prompts, opts);
        var before = Generator.GenerateBatch(m, prompts, opts with { CacheLayout = KvCacheLayout.Concatenated });
        for (int r = 0; r < prompts.Length; r++) Assert.Equal(before[r], tokens[r]);
    }

    [Fact]
    public void Decoding_writes_into_one_buffer_per_layer_and_allocates_no_cache_memory_per_token()
    {
        var m = TinyModel.Create();
        int layers = m.Config.Text.NumHiddenLayers, steps = 20;
        var prompt = Prompt(m, 1, 4, 5);
        using var _ = GradMode.NoGrad();
        var cache = new KvCache(layers, prompt.Length + steps);
        m.Forward(prompt, cache, lastPositionOnly: true);
        var buffers = Enumerable.Range(0, layers).Select(cache.KeyStorage).ToArray();
        Assert.Equal(2 * layers, cache.Allocations);
        for (int i = 0; i < steps; i++)
        {
            var embeds = Ops.Embedding(Ops.FromArray(new[] { 7L + i }, new Shape(1, 1), m.Device), m.Text.EmbedTokens);
            m.Decode(embeds, 1, null, cache, lastPositionOnly: true);
        }
        Assert.Equal(prompt.Length + steps, cache.Length);
        Assert.Equal(2 * layers, cache.Allocations);                          // nothing reallocated while decoding
        for (int l = 0; l < layers; l++) Assert.Same(buffers[l], cache.KeyStorage(l));
    }

    [Fact]
    public void A_cache_without_a_capacity_doubles_and_keeps_its_contents()
    {
        var m = TinyModel.Create();
        int layers = m.Config.Text.NumHiddenLayers, steps = 30;
        var prompt = Prompt(m, 0, 3, 9);
        using var _ = GradMode.NoGrad();
        var grown = new KvCache(layers);                                        // capacity = the prompt, then 2×, 4×, …
        var reference = new KvCache(layers, layout: KvCacheLayout.Concatenated);
        var a = m.Forward(prompt, grown, lastPositionOnly: true).ToArray<float>();
        var b = m.Forward(prompt, reference, lastPositionOnly: true).ToArray<float>();
        for (int i = 0; i < steps; i++)
        {
            Assert.Equal(b, a);
            var embeds = Ops.Embedding(Ops.FromArray(new[] { 11L + i }, new Shape(1, 1), m.Device), m.Text.EmbedTokens);
            a = m.Decode(embeds, 1, null, grown, lastPositionOnly: true).ToArray<float>();
            b = m.Decode(embeds, 1, null, reference, lastPositionOnly: true).ToArray<float>();
        }
        Assert.Equal(b, a);
        // 3 → 6 → 12 → 24 → 48 positions: the first allocation and 4 doublings per layer, for k and for v.
        Assert.Equal(2 * layers * 5, grown.Allocations);
    }
}
