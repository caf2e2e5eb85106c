using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Models.SmolVlm.Tests.Support;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;
using VlmTune.Tensors.Optim;

namespace VlmTune.Models.SmolVlm.Tests.Quantized;

public class QloraTrainingTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Qlora_adapters_on_a_4bit_base_learn_and_the_base_gets_no_gradient(bool dora)
    {
        var model = TinyModel.Create(4);
        int quantized = ModelQuantizer.QuantizeInPlace(model, new QuantizeSettings());
        Assert.Equal(model.NamedLinears().Count() - 1, quantized);
        var set = AdapterSet.Apply(model, new LoraSettings
        {
            Targets = TargetModules.AllLinear,
            Towers = new HashSet<Tower> { Tower.Text, Tower.Vision },
            ModulesToSave = ["connector.modality_projection.proj"],
            Lora = new LoraOptions { Rank = 4, Alpha = 8, UseDora = dora },
        }, seed: 1);
        var parameters = set.TrainableParameters.Select(p => p.Tensor).ToList();
        var opt = new AdamW(parameters, lr: 1e-2f);
        int size = model.Config.Vision.ImageSize, seq = model.Config.ImageSeqLen;
        var ids = new long[] { 5, 6 }.Concat(Enumerable.Repeat((long)model.Config.ImageTokenId, seq)).Concat(new long[] { 7, 8, 9, 10 }).ToArray();
        var inputs = new SmolVlmInputs
        {
            InputIds = ids, Batch = 1, TilesPerSample = 1, TileSize = size,
            PixelValues = Ops.RandomUniform(new Shape(3 * size * size), 2, CpuBackend.Device, -1f, 1f).ToArray<float>(),
        };
        var labels = Ops.FromArray(ids.Select((id, i) => i < ids.Length - 1 && ids[i + 1] != model.Config.ImageTokenId ? ids[i + 1] : -100L).ToArray(), new Shape(1, ids.Length), CpuBackend.Device);
        float first = 0, last = 0;
        for (int step = 0; step < 15; step++)
        {
            opt.ZeroGrad();
            var loss = Ops.CrossEntropy(model.Forward(inputs), labels);
            loss.Backward();
            opt.StepOnce();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.All(parameters, p => Assert.NotNull(p.Grad));
        Assert.All(model.NamedLinears().Where(l => l.Layer.IsQuantized), l => Assert.True(l.Layer.IsQuantized));
        Assert.True(last < first * 0.7, $"loss {first} → {last}");
    }
}
