using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests.Quantized;

public class ModelQuantizerTests
{
    static string Root()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VlmTune.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    static SmolVlmInputs TextPrompt(SmolVlmModel m) => new() { InputIds = [1, 20, 30, 40, 50, 60, 7, 8], Batch = 1 };

    [Fact]
    public void A_bnb_checkpoint_written_here_loads_back_with_the_same_logits_as_in_memory_quantisation()
    {
        string src = Path.Combine(Root(), "tests/fixtures/model/tiny");
        string dst = Path.Combine(Path.GetTempPath(), $"vlmtune-q-{Guid.NewGuid():N}");
        try
        {
            var (count, before, after) = ModelQuantizer.WriteCheckpoint(src, dst, new QuantizeSettings(), force: false);
            Assert.True(count > 10);
            Assert.True(after < before);
            using (var f = SafeTensorsCheckpoint.Open(dst))
            {
                const string q = "model.text_model.layers.0.self_attn.q_proj.weight";
                Assert.Equal("U8", f.GetInfo(q).DTypeName);
                foreach (var suffix in new[] { ".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map", ".quant_state.bitsandbytes__nf4" })
                    Assert.True(f.Contains(q + suffix), q + suffix);
                Assert.Equal("F32", f.GetInfo("lm_head.weight").DTypeName);
                Assert.Equal("F32", f.GetInfo("model.text_model.embed_tokens.weight").DTypeName);
            }
            Assert.Contains("\"quantization_config\"", File.ReadAllText(Path.Combine(dst, "config.json")));

            var loaded = SmolVlmModel.Load(dst, CpuBackend.Device, out var unused);
            Assert.Empty(unused);
            Assert.All(loaded.NamedLinears().Where(l => l.Tower != Tower.LmHead), l => Assert.True(l.Layer.IsQuantized, l.Path));
            var inMemory = SmolVlmModel.Load(src, CpuBackend.Device, out _);
            ModelQuantizer.QuantizeInPlace(inMemory, new QuantizeSettings());
            var unquantised = SmolVlmModel.Load(src, CpuBackend.Device, out _);
            using var noGrad = GradMode.NoGrad();
            var a = loaded.Forward(TextPrompt(loaded)).ToArray<float>();
            var b = inMemory.Forward(TextPrompt(inMemory)).ToArray<float>();
            var c = unquantised.Forward(TextPrompt(unquantised)).ToArray<float>();
            Assert.Equal(b, a);
            double drift = a.Zip(c, (x, y) => Math.Abs(x - y)).Max();
            Assert.InRange(drift, 1e-6, 0.2);
        }
        finally
        {
            if (Directory.Exists(dst)) Directory.Delete(dst, true);
        }
    }

    [Fact]
    public void Quantising_twice_or_into_a_non_empty_directory_is_refused()
    {
        string src = Path.Combine(Root(), "tests/fixtures/model/tiny");
        var e = Assert.Throws<IOException>(() => ModelQuantizer.WriteCheckpoint(src, src, new QuantizeSettings(), force: false));
        Assert.Contains("overwrite the input", e.Message);
    }
}
