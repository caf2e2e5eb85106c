using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;

namespace VlmTune.Models.SmolVlm.Tests.Adapters;

/// <summary>Central finite differences of the tiny model's loss against the autograd gradients of A, B and m.</summary>
public class AdapterGradientTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gradients_of_A_B_and_magnitude_match_finite_differences(bool dora)
    {
        var model = AdapterTestSupport.Tiny();
        var set = AdapterSet.Apply(model, new LoraSettings
        {
            Targets = TargetModules.FromNames("q_proj", "v_proj", "down_proj"),
            Towers = LoraSettings.AllTowers,
            Lora = new LoraOptions { Rank = 2, Alpha = 4, UseDora = dora },
        }, seed: 3);
        AdapterTestSupport.Perturb(set, 21, std: 0.3f);
        var inputs = AdapterTestSupport.Prompt(model);
        var labels = Ops.FromArray(inputs.InputIds.Select((id, i) => i == 0 ? -100L : (id * 7 + 3) % 250).ToArray(),
            new Shape(1, inputs.InputIds.Length), AdapterTestSupport.Cpu);
        Tensor Loss() => Ops.CrossEntropy(model.Forward(inputs), labels);

        foreach (var (_, t) in set.TrainableParameters) t.Grad = null;
        Loss().Backward();

        var checkedCount = 0;
        foreach (var adapter in new[] { set.Adapters.First(a => a.Path.Contains("vision")), set.Adapters.Last() })
        {
            foreach (var (suffix, tensor) in adapter.Parameters())
            {
                var grad = tensor.Grad!.ToFloatArray();
                var values = tensor.ToFloatArray();
                foreach (int index in new[] { 0, values.Length / 2, values.Length - 1 })
                {
                    double numeric = Central(values, index, tensor, Loss);
                    double tol = 2e-3 + 0.05 * Math.Abs(numeric);
                    Assert.True(Math.Abs(numeric - grad[index]) <= tol,
                        $"{adapter.Path}.{suffix}[{index}]: autograd {grad[index]:G6}, finite difference {numeric:G6}");
                    checkedCount++;
                }
            }
        }
        Assert.Equal(dora ? 18 : 12, checkedCount);
    }

    static double Central(float[] values, int index, Tensor tensor, Func<Tensor> loss)
    {
        const float eps = 1e-2f;
        float keep = values[index];
        double Eval(float v)
        {
            values[index] = v;
            Upload(tensor, values);
            using var _ = GradMode.NoGrad();
            return loss().Item();
        }
        double plus = Eval(keep + eps), minus = Eval(keep - eps);
        values[index] = keep;
        Upload(tensor, values);
        return (plus - minus) / (2 * eps);
    }

    static void Upload(Tensor t, float[] values) =>
        t.Backend.CopyFromHost(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()), t);
}
