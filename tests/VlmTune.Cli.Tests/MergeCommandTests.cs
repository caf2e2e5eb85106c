using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Cli.Tests;

[Collection("console")]
public class MergeCommandTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-merge-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }

    static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    [Fact]
    public void Init_adapter_merge_and_generate_end_to_end()
    {
        string model = Path.Combine(_tmp, "tiny"), adapter = Path.Combine(_tmp, "adapter"), merged = Path.Combine(_tmp, "merged");
        Assert.Equal(0, Run("init", "--like", "tiny", "--out", model, "--dtype", "f32").Code);
        var m = SmolVlmModel.Load(model, CpuBackend.Device, out _);
        var set = AdapterSet.Apply(m, new LoraSettings { Targets = TargetModules.FromNames("q_proj", "v_proj"), Lora = new LoraOptions { Rank = 2, Alpha = 4 } }, 1);
        foreach (var a in set.Adapters) a.Load(a.A.ToArray<float>(), Ops.RandomNormal(a.B.Shape, 5, CpuBackend.Device, 0f, 0.5f).ToArray<float>(), null);
        set.Save(adapter, "tiny", model);

        var (code, output, err) = Run("merge", "--model", model, "--adapter", adapter, "--out", merged, "--dtype", "f32");
        Assert.True(code == 0, err);
        Assert.Contains("drift vs the original base + adapter", output);
        Assert.Contains("merged onto the original base", output);
        var (gcode, gout, gerr) = Run("generate", "--model", model, "--adapter", adapter, "--input-ids", "1,2,3", "--max-new-tokens", "4");
        Assert.True(gcode == 0, gerr);
        var (mcode, mout, _) = Run("generate", "--model", merged, "--input-ids", "1,2,3", "--max-new-tokens", "4");
        Assert.Equal(0, mcode);
        Assert.Equal(gout, mout);
    }

    [Fact]
    public void Merge_refuses_a_folder_that_is_not_an_adapter()
    {
        string model = Path.Combine(_tmp, "tiny2");
        Assert.Equal(0, Run("init", "--like", "tiny", "--out", model).Code);
        var (code, _, err) = Run("merge", "--model", model, "--adapter", _tmp, "--out", Path.Combine(_tmp, "o"));
        Assert.Equal(1, code);
        Assert.Contains("not a PEFT adapter folder", err);
        Assert.DoesNotContain("   at ", err);
    }
}
