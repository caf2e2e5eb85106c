using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Merge;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests.Merge;

/// <summary>Merged checkpoints reproduce base + adapter: ≤ 1e-4 max |Δlogit| (f32), for LoRA, DoRA, modules_to_save and QLoRA.</summary>
public class ModelMergerTests
{
    static string Root()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VlmTune.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    static string Tiny => Path.Combine(Root(), "tests/fixtures/model/tiny");

    /// <summary>Trains nothing: installs adapters with random non-zero B (and m) and saves them.</summary>
    static string MakeAdapter(bool dora, bool quantizedBase, string[] save)
    {
        var model = SmolVlmModel.Load(Tiny, CpuBackend.Device, out _);
        if (quantizedBase) ModelQuantizer.QuantizeInPlace(model, new QuantizeSettings());
        var settings = new LoraSettings
        {
            Targets = TargetModules.FromNames("q_proj", "k_proj", "v_proj", "o_proj", "down_proj"),
            Towers = new HashSet<Tower> { Tower.Text, Tower.Vision },
            ModulesToSave = save,
            Lora = new LoraOptions { Rank = 4, Alpha = 8, UseDora = dora },
        };
        var set = AdapterSet.Apply(model, settings, seed: 3);
        ulong s = 10;
        foreach (var a in set.Adapters)
        {
            var b = Ops.RandomNormal(a.B.Shape, s++, CpuBackend.Device, 0f, 0.3f).ToArray<float>();
            var m = a.Magnitude == null ? null : Ops.AddScalar(a.Magnitude, 0.1f).ToArray<float>();
            a.Load(a.A.ToArray<float>(), b, m);
        }
        string dir = Path.Combine(Path.GetTempPath(), $"vlmtune-adapter-{Guid.NewGuid():N}");
        set.Save(dir, "tiny", Tiny);
        return dir;
    }

    [Theory]
    [InlineData(false, false, MergeBase.Original)]
    [InlineData(true, false, MergeBase.Original)]
    [InlineData(false, true, MergeBase.Dequantized)]
    [InlineData(true, true, MergeBase.Dequantized)]
    public void Merged_checkpoint_reproduces_the_adapter_model(bool dora, bool qlora, MergeBase onto)
    {
        string adapter = MakeAdapter(dora, qlora, ["connector.modality_projection.proj"]);
        string output = adapter + "-merged";
        try
        {
            var drift = ModelMerger.Merge(Tiny, adapter, output, new MergeOptions { Onto = onto, DType = DType.F32 }, CpuBackend.Device);
            Assert.True(drift.Max <= 1e-4, $"max |Δlogit| {drift.Max}");
            Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")));
            Assert.True(File.Exists(Path.Combine(output, "chat_template.json")));
            var merged = SmolVlmModel.Load(output, CpuBackend.Device, out var unused);
            Assert.Empty(unused);
        }
        finally
        {
            foreach (var d in new[] { adapter, output }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [Fact]
    public void Merging_a_qlora_adapter_onto_the_original_weights_drifts_and_the_report_shows_it()
    {
        string adapter = MakeAdapter(false, true, []);
        string output = adapter + "-merged";
        try
        {
            // The adapter model here is the ORIGINAL base + adapter (Onto = Original), so the merge is exact against it...
            var exact = ModelMerger.Merge(Tiny, adapter, output, new MergeOptions { Onto = MergeBase.Original, DType = DType.F32 }, CpuBackend.Device);
            Assert.True(exact.Max <= 1e-4);
            // ...while a bf16 export of the same merge is lossy, and the report says by how much.
            var bf16 = ModelMerger.Merge(Tiny, adapter, output, new MergeOptions { Onto = MergeBase.Original, DType = DType.BF16, Force = true }, CpuBackend.Device);
            Assert.True(bf16.Max > exact.Max);
        }
        finally
        {
            foreach (var d in new[] { adapter, output }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }
}
