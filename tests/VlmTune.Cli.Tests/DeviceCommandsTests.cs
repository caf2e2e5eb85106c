using System.Runtime.InteropServices;
using VlmTune.Checkpoints.SafeTensors;

namespace VlmTune.Cli.Tests;

/// <summary>`vlmtune env` and `--device` on a machine without a GPU (CI and the developers' machines).</summary>
[Collection("console")]
public class DeviceCommandsTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-device-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        foreach (var d in Directory.GetDirectories(Path.GetTempPath(), Path.GetFileName(_tmp) + "*"))
            Directory.Delete(d, true);
    }

    static string Root => CliHarness.RepoRoot();

    string[] Overrides(string output, int steps) =>
    [
        "--set", $"model.path={Path.Combine(Root, "tests/fixtures/model/tiny")}",
        "--set", $"data.train={Path.Combine(Root, "tests/fixtures/data/sft.jsonl")}",
        "--set", $"output.dir={output}",
        "--set", $"train.max_steps={steps}",
        "--set", "train.batch_size=2",
    ];

    [Fact]
    public void Env_says_there_is_no_gpu_and_that_the_cpu_will_be_used()
    {
        var (code, output, err) = CliHarness.Run("env");
        Assert.True(code == 0, err);
        Assert.Contains("cpu: ", output);
        Assert.Contains("cuda driver: libcuda.so.1 not found", output);
        Assert.Contains("--device auto → cpu: no NVIDIA driver", output);
    }

    [Fact]
    public void Cuda_without_a_gpu_is_one_sentence_and_writes_nothing()
    {
        string run = _tmp + "-nogpu";
        var (code, output, err) = CliHarness.Run(["sft", Path.Combine(Root, "recipes/tiny/sft.yaml"), "--device", "cuda", .. Overrides(run, 2)]);
        Assert.Equal(1, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: --device cuda: no NVIDIA driver", line);
        Assert.False(Directory.Exists(run), "nothing may be written when the device is not there");
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("cuda:x")]
    public void A_bad_device_name_is_refused(string name)
    {
        var (code, _, err) = CliHarness.Run("generate", "--model", Path.Combine(Root, "tests/fixtures/model/tiny"), "--prompt", "hi", "--device", name);
        Assert.Equal(1, code);
        Assert.Contains($"--device: '{name}' is not a device (auto, cpu, cuda or cuda:N)", err);
    }

    [Fact]
    public void Auto_falls_back_to_the_cpu_with_a_warning()
    {
        var (code, output, err) = CliHarness.Run("generate", "--model", Path.Combine(Root, "tests/fixtures/model/tiny"), "--prompt", "hi", "--max-new-tokens", "2");
        Assert.True(code == 0, err);
        Assert.Contains("warning: device: cpu", err);
        Assert.Contains("auto: no NVIDIA driver", err);
    }

    [Fact]
    public void Simulated_cuda_sft_trains_and_its_adapter_equals_the_cpu_runs()
    {
        // VLMTUNE_CUDA_SIMULATE=1: the CUDA backend on ILGPU's CPU accelerator. f32 compute on both devices (pinned:
        // auto would be bf16 on CUDA), so the adapters differ only by f32 reassociation (GEMM and reduction order):
        // ≤ 1e-4 relative to each tensor's scale.
        string cpu = _tmp + "-cpu", cuda = _tmp + "-cuda";
        var (c1, o1, e1) = CliHarness.Run(["sft", Path.Combine(Root, "recipes/tiny/sft.yaml"), "--device", "cpu", .. Overrides(cpu, 4), "--set", "train.compute_dtype=f32"]);
        Assert.True(c1 == 0, e1 + o1);
        Environment.SetEnvironmentVariable("VLMTUNE_CUDA_SIMULATE", "1");
        try
        {
            var (c2, o2, e2) = CliHarness.Run(["sft", Path.Combine(Root, "recipes/tiny/sft.yaml"), "--device", "cuda", .. Overrides(cuda, 4), "--set", "train.compute_dtype=f32"]);
            Assert.True(c2 == 0, e2 + o2);
        }
        finally
        {
            Environment.SetEnvironmentVariable("VLMTUNE_CUDA_SIMULATE", null);
        }
        Assert.Contains("device: cuda (simulated", File.ReadAllText(Path.Combine(cuda, "train.log")));
        using var a = SafeTensorsFile.Open(Path.Combine(cpu, "adapter/adapter_model.safetensors"));
        using var b = SafeTensorsFile.Open(Path.Combine(cuda, "adapter/adapter_model.safetensors"));
        Assert.Equal(a.Names.OrderBy(n => n), b.Names.OrderBy(n => n));
        foreach (var name in a.Names)
        {
            Assert.Equal("F32", a.GetInfo(name).DTypeName);
            var x = MemoryMarshal.Cast<byte, float>(a.GetBytes(name)).ToArray();
            var y = MemoryMarshal.Cast<byte, float>(b.GetBytes(name)).ToArray();
            float scale = Math.Max(1e-6f, x.Max(Math.Abs));
            for (int i = 0; i < x.Length; i++)
                Assert.True(Math.Abs(x[i] - y[i]) <= 1e-4f * scale, $"{name}[{i}]: cpu {x[i]} vs simulated cuda {y[i]}");
        }
    }
}
