using VlmTune.Models.SmolVlm.Tests.Support;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests;

public class ModelInvariantTests
{
    static Device Cpu => CpuBackend.Device;

    static SmolVlmInputs Prompt(SmolVlmModel m, int tiles, int textBefore, int textAfter, ulong seed)
    {
        var rng = new Random((int)seed);
        int seq = m.Config.ImageSeqLen, size = m.Config.Vision.ImageSize;
        var ids = new List<long>();
        for (int i = 0; i < textBefore; i++) ids.Add(rng.Next(3, 200));
        for (int i = 0; i < tiles * seq; i++) ids.Add(m.Config.ImageTokenId);
        for (int i = 0; i < textAfter; i++) ids.Add(rng.Next(3, 200));
        var pixels = Ops.RandomUniform(new Shape(tiles * 3 * size * size), seed, Cpu, -1f, 1f).ToArray<float>();
        return new SmolVlmInputs { InputIds = ids.ToArray(), Batch = 1, PixelValues = tiles > 0 ? pixels : null, TilesPerSample = tiles, TileSize = size };
    }

    [Fact]
    public void Batched_generation_equals_one_prompt_at_a_time()
    {
        // Left padding (masked), mixed lengths, with and without image tiles, rows stopping at different steps.
        var m = TinyModel.Create();
        var prompts = new[] { Prompt(m, 0, 9, 0, 1), Prompt(m, 1, 3, 2, 2), Prompt(m, 0, 2, 0, 3), Prompt(m, 2, 4, 1, 4) };
        var single = prompts.Select(p => Generator.Generate(m, p, new GenerationOptions { MaxNewTokens = 12 }).Tokens).ToArray();
        long stop = single[2][4];   // a token the third row emits: it stops there, the others run on (or stop too)
        var opts = new GenerationOptions { MaxNewTokens = 12, StopTokenIds = [stop] };
        var expected = prompts.Select(p => Generator.Generate(m, p, opts).Tokens).ToArray();
        var batched = Generator.GenerateBatch(m, prompts, opts, padId: 0);
        for (int r = 0; r < prompts.Length; r++) Assert.Equal(expected[r], batched[r]);
        Assert.Contains(expected, t => t.Length < 12);
    }

    [Fact]
    public void Kv_cache_decoding_equals_the_uncached_forward_for_32_tokens()
    {
        var m = TinyModel.Create();
        var prompt = Prompt(m, 2, 5, 3, 7);
        var opts = new GenerationOptions { MaxNewTokens = 32 };
        var (cached, cachedLogits) = Generator.Generate(m, prompt, opts);
        var (full, fullLogits) = Generator.Generate(m, prompt, opts with { NoCache = true });
        Assert.Equal(32, cached.Length);
        Assert.Equal(full, cached);
        double worst = 0;
        for (int s = 0; s < cachedLogits.Count; s++)
            for (int i = 0; i < cachedLogits[s].Length; i++)
                worst = Math.Max(worst, Math.Abs(cachedLogits[s][i] - fullLogits[s][i]));
        Assert.True(worst <= 1e-4, $"max |Δlogit| {worst}");
    }

    [Fact]
    public void Image_token_count_mismatch_is_a_clear_error()
    {
        var m = TinyModel.Create();
        var p = Prompt(m, 2, 3, 3, 1);
        var bad = p with { InputIds = p.InputIds.Where((id, i) => i != 4).ToArray() };
        var e = Assert.Throws<ModelInputException>(() => m.Forward(bad));
        Assert.Contains("7 <image> tokens", e.Message);
        Assert.Contains("2 × 4 = 8", e.Message);
    }

    [Fact]
    public void Padding_tiles_are_dropped_and_padding_tokens_do_not_change_real_logits()
    {
        var m = TinyModel.Create();
        var p = Prompt(m, 1, 4, 4, 3);
        int size = m.Config.Vision.ImageSize, tileLen = 3 * size * size, l = p.Length;
        using var _ = GradMode.NoGrad();
        var reference = m.Forward(p).ToArray<float>();
        // Same sample padded: an extra all-zero tile and 3 pad tokens on the right with attention mask 0.
        var pixels = new float[2 * tileLen];
        Array.Copy(p.PixelValues!, pixels, tileLen);
        var ids = p.InputIds.Concat([2L, 2L, 2L]).ToArray();
        var mask = Enumerable.Repeat(1L, l).Concat([0L, 0L, 0L]).ToArray();
        var padded = m.Forward(p with { InputIds = ids, PixelValues = pixels, TilesPerSample = 2, AttentionMask = mask }).ToArray<float>();
        int v = m.Config.Text.VocabSize;
        for (int i = 0; i < l * v; i++) Assert.True(Math.Abs(reference[i] - padded[i]) < 1e-5, $"logit {i}: {reference[i]} vs {padded[i]}");
    }

    [Fact]
    public void Batched_forward_equals_per_sample_forward()
    {
        var m = TinyModel.Create();
        var a = Prompt(m, 1, 2, 5, 11);
        var b = Prompt(m, 2, 1, 1, 12);
        int size = m.Config.Vision.ImageSize, tileLen = 3 * size * size, v = m.Config.Text.VocabSize;
        int l = Math.Max(a.Length, b.Length);
        long[] Pad(long[] ids) => ids.Concat(Enumerable.Repeat(2L, l - ids.Length)).ToArray();
        long[] Mask(int n) => Enumerable.Repeat(1L, n).Concat(Enumerable.Repeat(0L, l - n)).ToArray();
        var pixels = new float[2 * 2 * tileLen];
        Array.Copy(a.PixelValues!, 0, pixels, 0, tileLen);
        Array.Copy(b.PixelValues!, 0, pixels, 2 * tileLen, 2 * tileLen);
        var batch = new SmolVlmInputs
        {
            InputIds = Pad(a.InputIds).Concat(Pad(b.InputIds)).ToArray(), Batch = 2, AttentionMask = Mask(a.Length).Concat(Mask(b.Length)).ToArray(),
            PixelValues = pixels, TilesPerSample = 2, TileSize = size,
        };
        using var _ = GradMode.NoGrad();
        var both = m.Forward(batch).ToArray<float>();
        var la = m.Forward(a).ToArray<float>();
        var lb = m.Forward(b).ToArray<float>();
        for (int i = 0; i < a.Length * v; i++) Assert.True(Math.Abs(la[i] - both[i]) < 1e-4, $"sample 0 logit {i}");
        for (int i = 0; i < b.Length * v; i++) Assert.True(Math.Abs(lb[i] - both[l * v + i]) < 1e-4, $"sample 1 logit {i}");
    }

    [Fact]
    public void Gradients_reach_trainable_weights_of_every_tower()
    {
        var m = TinyModel.Create();
        var p = Prompt(m, 1, 3, 3, 5);
        var q = m.Vision.Layers[0].Q.Weight = Ops.Contiguous(m.Vision.Layers[0].Q.Weight).Detach().RequireGrad();
        var proj = m.Connector.Weight = m.Connector.Weight.Detach().RequireGrad();
        var down = m.Text.Layers[1].Down.Weight = m.Text.Layers[1].Down.Weight.Detach().RequireGrad();
        Ops.Sum(m.Forward(p)).Backward();
        Assert.NotNull(q.Grad);
        Assert.NotNull(proj.Grad);
        Assert.NotNull(down.Grad);
        Assert.Contains(q.Grad!.ToArray<float>(), g => g != 0);
    }
}
