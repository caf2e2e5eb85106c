using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;
using VlmTune.Training.Dpo;

namespace VlmTune.Training.Tests;

/// <summary>
/// Logits at the supervised rows only (<see cref="SupervisedTokens"/>) give the loss, the per-sequence log-prob sums
/// and every trainable gradient of full (B, T, V) logits with ignored labels — within f32 reassociation.
/// </summary>
public class SupervisedTokensTests
{
    static string Root()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VlmTune.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    static (SmolVlmModel Model, AdapterSet Adapters) Model()
    {
        var model = SmolVlmModel.Load(Path.Combine(Root(), "tests/fixtures/model/tiny"), CpuBackend.Device, out _);
        var settings = new LoraSettings
        {
            Targets = TargetModules.AllLinear, Lora = new LoraOptions { Rank = 4, Alpha = 8 }, ModulesToSave = ["lm_head"],
        };
        var adapters = AdapterSet.Apply(model, settings, seed: 3);
        // Non-zero B, so the LoRA path carries gradient into every factor.
        int k = 0;
        foreach (var a in adapters.Adapters)
            a.Load(a.A.ToFloatArray(), Ops.RandomNormal(a.B.Shape, 11 + (ulong)k++, CpuBackend.Device, 0f, 0.05f).ToArray<float>(), null);
        return (model, adapters);
    }

    static (SmolVlmInputs Inputs, long[] Labels) Batch(int vocab)
    {
        const int b = 3, t = 11;
        var rng = new Random(5);
        var ids = new long[b * t];
        var labels = new long[b * t];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = rng.Next(3, vocab - 200);
            // Sequence 2 has no supervised token at all; the others a prompt part (ignored) then a supervised part.
            labels[i] = i / t == 2 || i % t < 4 + i / t ? -100 : ids[i];
        }
        return (new SmolVlmInputs { InputIds = ids, Batch = b, AttentionMask = Enumerable.Repeat(1L, b * t).ToArray() }, labels);
    }

    static List<float[]> Gradients(AdapterSet adapters, Func<Tensor> loss)
    {
        foreach (var (_, t) in adapters.TrainableParameters) t.Grad = null;
        loss().Backward();
        return adapters.TrainableParameters.Select(p => p.Tensor.Grad!.ToArray<float>()).ToList();
    }

    [Fact]
    public void Loss_and_gradients_equal_those_of_full_logits()
    {
        var (model, adapters) = Model();
        var (inputs, labels) = Batch(model.Config.Text.VocabSize);
        var labelTensor = Ops.FromArray(labels, new Shape(inputs.Batch, labels.Length / inputs.Batch), CpuBackend.Device);
        long n = TokenNormalizedLoss.CountSupervised(labels, inputs.Batch);
        float full = 0, rows = 0;
        var gFull = Gradients(adapters, () =>
        {
            var l = TokenNormalizedLoss.Compute(model.Forward(inputs, null, [0, 0, 0]), labelTensor, n);
            full = l.Item();
            return l;
        });
        var gRows = Gradients(adapters, () =>
        {
            var l = TokenNormalizedLoss.Compute(model, model.Hidden(inputs, null, [0, 0, 0]), SupervisedTokens.Of(labels, inputs.Batch), n);
            rows = l.Item();
            return l;
        });
        Assert.True(Math.Abs(full - rows) <= 1e-6f * Math.Abs(full), $"loss {full} vs {rows}");
        Assert.Equal(gFull.Count, gRows.Count);
        for (int i = 0; i < gFull.Count; i++)
        {
            float scale = Math.Max(1e-8f, gFull[i].Max(Math.Abs));
            for (int j = 0; j < gFull[i].Length; j++)
                Assert.True(Math.Abs(gFull[i][j] - gRows[i][j]) <= 1e-5f * scale, $"param {i} element {j}: {gFull[i][j]} vs {gRows[i][j]}");
        }
    }

    [Fact]
    public void Sequence_log_prob_sums_equal_those_of_full_logits_and_a_sequence_without_labels_sums_to_zero()
    {
        var (model, _) = Model();
        var (inputs, labels) = Batch(model.Config.Text.VocabSize);
        int b = inputs.Batch, t = labels.Length / b;
        using var _ = Tensors.Autograd.GradMode.NoGrad();
        var logits = model.Forward(inputs, null, [0, 0, 0]);
        var labelTensor = Ops.FromArray(labels, new Shape(b, t), CpuBackend.Device);
        var expected = Ops.Sum(Ops.TokenLogProbs(Ops.Narrow(logits, 1, 0, t - 1), Ops.Contiguous(Ops.Narrow(labelTensor, 1, 1, t - 1))), 1).ToArray<float>();
        var scored = SupervisedTokens.Of(labels, b);
        var actual = scored.SequenceLogProbs(model, model.Hidden(inputs, null, [0, 0, 0])).ToArray<float>();
        for (int r = 0; r < b; r++) Assert.True(Math.Abs(expected[r] - actual[r]) <= 1e-5f * Math.Max(1, Math.Abs(expected[r])), $"row {r}: {expected[r]} vs {actual[r]}");
        Assert.Equal(0f, actual[2]);
        Assert.Equal([7f, 6f, 0f], scored.CountPerSequence());
    }
}
