using System.Runtime.InteropServices;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Models.SmolVlm.Tests.Adapters;
using VlmTune.Models.SmolVlm.Tests.Support;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests;

/// <summary>
/// The model with bf16 compute (<see cref="SmolVlmModel.ComputeDType"/>) on the CPU against the same model in f32.
/// Tolerance: bf16 keeps 8 significant bits, so every stored activation carries a relative rounding error up to
/// 2^-9 ≈ 0.2%; through the residual stream of a few layers, the norms and the lm_head these errors add up to about
/// 1% of the activations' scale. Logits are compared relative to their range over the vocabulary and positions
/// (max − min of the f32 logits), the scale at which a softmax or an argmax sees them: measured 0.3% on the fixture
/// checkpoints (f32 and bf16 weights) and 0.6–1% on the seeded tiny model with perturbed LoRA / DoRA / QLoRA adapters;
/// bound 3%. Adapter gradients: measured 1–2% of the largest gradient element; bound 5%.
/// </summary>
public class MixedPrecisionModelTests(Xunit.Abstractions.ITestOutputHelper output)
{
    const double LogitTolerance = 0.03;

    static readonly string Root = AdapterTestSupport.RepoRoot;

    static T[] Read<T>(SafeTensorsFile f, string name) where T : unmanaged => MemoryMarshal.Cast<byte, T>(f.GetBytes(name)).ToArray();

    /// <summary>A fixture case's inputs (tests/fixtures/model/cases).</summary>
    static SmolVlmInputs Case(string file)
    {
        using var f = SafeTensorsFile.Open(Path.Combine(Root, "tests/fixtures/model/cases", file));
        int b = (int)f.GetInfo("input_ids").Shape[0];
        var inputs = new SmolVlmInputs { InputIds = Read<long>(f, "input_ids"), Batch = b, AttentionMask = Read<long>(f, "attention_mask") };
        if (!f.Contains("pixel_values")) return inputs;
        var pv = f.GetInfo("pixel_values");
        return inputs with
        {
            PixelValues = Read<float>(f, "pixel_values"), TilesPerSample = (int)pv.Shape[1], TileSize = (int)pv.Shape[3],
            PixelAttentionMask = f.Contains("pixel_attention_mask") ? Read<long>(f, "pixel_attention_mask").Select(v => v != 0).ToArray() : null,
        };
    }

    /// <summary>max |Δ| over the real positions, relative to the range of the f32 logits there.</summary>
    double RelativeLogitError(float[] f32, float[] bf16, long[]? mask, int vocab, string what)
    {
        double worst = 0, lo = double.MaxValue, hi = double.MinValue;
        int positions = f32.Length / vocab;
        for (int p = 0; p < positions; p++)
        {
            if (mask != null && mask[p] == 0) continue;
            for (int i = 0; i < vocab; i++)
            {
                double e = f32[(long)p * vocab + i];
                worst = Math.Max(worst, Math.Abs(e - bf16[(long)p * vocab + i]));
                lo = Math.Min(lo, e);
                hi = Math.Max(hi, e);
            }
        }
        double rel = worst / (hi - lo);
        output.WriteLine($"{what}: max |Δlogit| {worst:G3}, logit range {hi - lo:G3}, relative {rel:G3}");
        return rel;
    }

    public static TheoryData<string, string> FixtureCases() => new()
    {
        { "tiny", "text_only.safetensors" },
        { "tiny", "image_split.safetensors" },
        { "tiny-bf16", "image_split.safetensors" },     // bf16 weights: the CUDA setting (frozen base and activations bf16)
        { "tiny", "batch_padded.safetensors" },
        { "tiny", "partial_mask.safetensors" },
    };

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void Bf16_forward_matches_f32_within_bf16_precision(string checkpoint, string file)
    {
        var model = SmolVlmModel.Load(Path.Combine(Root, "tests/fixtures/model", checkpoint), CpuBackend.Device, out _);
        var inputs = Case(file);
        using var noGrad = GradMode.NoGrad();
        var f32 = model.Forward(inputs);
        model.ComputeDType = DType.BF16;
        var bf16 = model.Forward(inputs);
        Assert.Equal(DType.F32, f32.DType);
        Assert.Equal(DType.BF16, bf16.DType);
        Assert.Equal(DType.BF16, model.Embed(inputs).DType);
        double rel = RelativeLogitError(f32.ToFloatArray(), bf16.ToFloatArray(), inputs.AttentionMask, model.Config.Text.VocabSize, $"{checkpoint}/{file}");
        Assert.True(rel <= LogitTolerance, $"relative logit error {rel:G3}");
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, false, true)]
    public void Adapters_keep_f32_weights_and_gradients_under_bf16_compute(bool dora, bool qlora, bool checkpointing)
    {
        var model = TinyModel.Create(3);
        if (qlora) ModelQuantizer.QuantizeInPlace(model, new QuantizeSettings());
        model.Text.GradientCheckpointing = checkpointing;
        model.Vision.GradientCheckpointing = checkpointing;
        var set = AdapterSet.Apply(model, new LoraSettings
        {
            Targets = TargetModules.AllLinear,
            Towers = new HashSet<Tower> { Tower.Text, Tower.Vision, Tower.Connector },
            ModulesToSave = ["lm_head"],
            Lora = new LoraOptions { Rank = 4, Alpha = 8, UseDora = dora },
        }, seed: 2);
        AdapterTestSupport.Perturb(set, 9, std: 0.2f);
        var inputs = AdapterTestSupport.Prompt(model, 6);
        var ids = inputs.InputIds;
        var labels = Ops.FromArray(ids.Select((id, i) => i < ids.Length - 1 && ids[i + 1] != model.Config.ImageTokenId ? ids[i + 1] : -100L).ToArray(),
            new Shape(1, ids.Length), CpuBackend.Device);

        (float[] Logits, float Loss, List<float[]> Grads) Step(DType compute)
        {
            model.ComputeDType = compute;
            foreach (var (_, t) in set.TrainableParameters) t.Grad = null;
            var logits = model.Forward(inputs);
            Assert.Equal(compute, logits.DType);
            var loss = Ops.CrossEntropy(logits, labels);
            Assert.Equal(DType.F32, loss.DType);
            loss.Backward();
            foreach (var (key, t) in set.TrainableParameters)
            {
                Assert.Equal(DType.F32, t.DType);
                Assert.True(t.Grad?.DType == DType.F32, $"{key}: gradient {t.Grad?.DType}");
            }
            return (logits.ToFloatArray(), loss.Item(), set.TrainableParameters.Select(p => p.Tensor.Grad!.ToFloatArray()).ToList());
        }

        var full = Step(DType.F32);
        var half = Step(DType.BF16);
        string what = $"lora (dora {dora}, qlora {qlora}, checkpointing {checkpointing})";
        Assert.True(RelativeLogitError(full.Logits, half.Logits, null, model.Config.Text.VocabSize, what) <= LogitTolerance);
        Assert.True(Math.Abs(full.Loss - half.Loss) <= 1e-2 * full.Loss, $"loss bf16 {half.Loss} vs f32 {full.Loss}");
        // Gradients: the backward runs on bf16 activations and bf16 activation gradients, so each of the adapter
        // gradients carries the forward's ~1% error plus the backward's own roundings; compared over all adapter
        // tensors relative to the largest gradient element (the scale the optimiser's clipping and AdamW see).
        double scale = full.Grads.Max(g => g.Max(Math.Abs)), worst = 0;
        for (int i = 0; i < full.Grads.Count; i++)
            for (int j = 0; j < full.Grads[i].Length; j++) worst = Math.Max(worst, Math.Abs(full.Grads[i][j] - half.Grads[i][j]));
        output.WriteLine($"{what}: loss f32 {full.Loss:G6} bf16 {half.Loss:G6}; max |Δgrad| {worst:G3} of max |grad| {scale:G3} ({worst / scale:G3})");
        Assert.True(worst <= 0.05 * scale, $"max |Δgrad| {worst:G3} vs max |grad| {scale:G3}");
    }

    [Fact]
    public void Bf16_generation_with_the_kv_cache_matches_the_uncached_bf16_forward()
    {
        var model = TinyModel.Create();
        model.ComputeDType = DType.BF16;
        var prompt = AdapterTestSupport.Prompt(model, 4);
        var opts = new GenerationOptions { MaxNewTokens = 12 };
        var (cached, cachedLogits) = Generator.Generate(model, prompt, opts);
        var (full, fullLogits) = Generator.Generate(model, prompt, opts with { NoCache = true });
        Assert.Equal(12, cached.Length);
        Assert.Equal(full, cached);
        double worst = 0;
        for (int s = 0; s < cachedLogits.Count; s++)
            worst = Math.Max(worst, RelativeLogitError(fullLogits[s], cachedLogits[s], null, model.Config.Text.VocabSize, $"step {s}"));
        Assert.True(worst <= LogitTolerance, $"cached vs uncached: relative {worst:G3}");
    }
}
