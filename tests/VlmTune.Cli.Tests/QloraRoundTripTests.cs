using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Cli.Tests;

/// <summary>
/// The model you trained is the model you run: a QLoRA run with a non-default blocksize (128, no double quant) records
/// its base preparation beside the adapter, and forward / generate / eval / merge then give the trained model's logits.
/// The trained model is rebuilt here by hand (base quantised as in RunSetup + adapter) as the reference.
/// </summary>
[Collection("console")]
public class QloraRoundTripTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-qlora-rt-{Guid.NewGuid():N}");
    static string Root => CliHarness.RepoRoot();
    static string Model => Path.Combine(Root, "tests/fixtures/model/tiny");
    static readonly long[] Ids = [1, 5, 9, 20, 33, 7, 2, 14];

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }

    /// <summary>One QLoRA run shared by the assertions (trained once: seconds).</summary>
    string Train()
    {
        var (code, output, err) = CliHarness.Run("sft", Path.Combine(Root, "recipes/tiny/sft.yaml"),
            "--set", $"model.path={Model}", "--set", $"data.train={Path.Combine(Root, "tests/fixtures/data/sft.jsonl")}",
            "--set", $"output.dir={Path.Combine(_tmp, "run")}", "--set", "train.max_steps=2", "--set", "train.batch_size=2",
            "--set", "quantization.blocksize=128", "--set", "quantization.double_quant=false", "--set", "train.warmup_steps=0");
        Assert.True(code == 0, err + output);
        return Path.Combine(_tmp, "run", "adapter");
    }

    static float[] TrainedLogits(string adapter, bool quantised = true)
    {
        var m = SmolVlmModel.Load(Model, CpuBackend.Device, out _);
        if (quantised) ModelQuantizer.QuantizeInPlace(m, new QuantizeSettings { Blocksize = 128, DoubleQuant = false });
        AdapterSet.Load(m, adapter);
        using (GradMode.NoGrad()) return m.Forward(new SmolVlmInputs { InputIds = Ids, Batch = 1 }).ToFloatArray();
    }

    float[] ForwardLogits(params string[] extra)
    {
        string input = Path.Combine(_tmp, "in.json"), output = Path.Combine(_tmp, $"out-{Guid.NewGuid():N}.safetensors");
        File.WriteAllText(input, $"{{\"input_ids\": [{string.Join(", ", Ids)}]}}");
        var (code, _, err) = CliHarness.Run(["forward", "--input", input, "--out", output, .. extra]);
        Assert.True(code == 0, err);
        using var f = SafeTensorsFile.Open(output);
        return MemoryMarshal.Cast<byte, float>(f.GetBytes("logits")).ToArray();
    }

    static double MaxDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
    }

    [Fact]
    public void Qlora_blocksize_128_round_trip_forward_generate_merge_give_the_trained_logits()
    {
        string adapter = Train();
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(adapter, BasePreparation.FileName)))!;
        Assert.Equal(128, (int)record["quantization"]!["blocksize"]!);
        Assert.False((bool)record["quantization"]!["double_quant"]!);
        Assert.Equal(BasePreparation.HashWeights(Model), (string)record["base_weights_sha256"]!);
        Assert.True(File.Exists(Path.Combine(_tmp, "run", "adapter", "adapter_config.json")));   // PEFT files unchanged beside it

        var trained = TrainedLogits(adapter);
        Assert.True(MaxDiff(trained, TrainedLogits(adapter, quantised: false)) > 1e-3, "the test needs a visible quantisation effect");

        // forward --adapter: the as-trained base by default, one log line; --base original is the explicit override.
        Assert.True(MaxDiff(trained, ForwardLogits("--model", Model, "--adapter", adapter)) <= 1e-4);
        Assert.True(MaxDiff(trained, ForwardLogits("--model", Model, "--adapter", adapter, "--base", "original")) > 1e-3);

        // generate: greedy tokens equal the trained model's greedy decoding.
        var m = SmolVlmModel.Load(Model, CpuBackend.Device, out _);
        ModelQuantizer.QuantizeInPlace(m, new QuantizeSettings { Blocksize = 128, DoubleQuant = false });
        AdapterSet.Load(m, adapter);
        var (expected, _) = Generator.Generate(m, new SmolVlmInputs { InputIds = Ids, Batch = 1 }, new GenerationOptions { MaxNewTokens = 6 });
        var (gcode, gout, gerr) = CliHarness.Run("generate", "--model", Model, "--adapter", adapter, "--input-ids", string.Join(",", Ids), "--max-new-tokens", "6");
        Assert.True(gcode == 0, gerr);
        Assert.Contains("base: rebuilt as trained — nf4, blocksize 128, no double quant", gerr);
        var processor = VlmTune.Data.SmolVlmProcessor.FromDirectory(Model);
        Assert.Equal(processor.Tokenizer.Decode(expected.Where(t => t != processor.TokenIds.EndOfUtterance).Select(t => (int)t).ToArray()), gout.TrimEnd('\n'));

        // merge: default = the recorded base (blocksize 128, no double quant); the merged checkpoint gives the trained logits.
        string merged = Path.Combine(_tmp, "merged");
        var (mcode, mout, merr) = CliHarness.Run("merge", "--model", Model, "--adapter", adapter, "--out", merged, "--dtype", "f32");
        Assert.True(mcode == 0, merr);
        Assert.Contains("drift vs the model as trained (nf4, blocksize 128, no double quant, compute f32)", mout);
        Assert.True(MaxDiff(trained, ForwardLogits("--model", merged)) <= 1e-4);

        // --merge-onto dequantized honours the recorded blocksize 128 / no double quant (it used to assume 64 + double quant).
        string dq = Path.Combine(_tmp, "merged-dq");
        (mcode, mout, merr) = CliHarness.Run("merge", "--model", Model, "--adapter", adapter, "--out", dq, "--dtype", "f32", "--merge-onto", "dequantized");
        Assert.True(mcode == 0, merr);
        Assert.Contains("dequant(quant(W)), nf4 blocksize 128, no double quant", merr);
        Assert.True(MaxDiff(trained, ForwardLogits("--model", dq)) <= 1e-4);

        // merge onto the original weights: the drift against the trained model says how far it is (no false reassurance).
        string original = Path.Combine(_tmp, "merged-original");
        (mcode, mout, merr) = CliHarness.Run("merge", "--model", Model, "--adapter", adapter, "--out", original, "--dtype", "f32", "--merge-onto", "original");
        Assert.True(mcode == 0, merr);
        double drift = double.Parse(mout.Split("max |Δlogit| ")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(drift > 1e-3, mout);
    }

    [Fact]
    public void A_different_base_warns_with_both_hashes_and_an_adapter_without_the_record_runs_as_before()
    {
        string adapter = Path.Combine(_tmp, "adapter");
        var m = SmolVlmModel.Load(Model, CpuBackend.Device, out _);
        var set = AdapterSet.Apply(m, new LoraSettings { Targets = TargetModules.FromNames("q_proj"), Lora = new VlmTune.Nn.Lora.LoraOptions { Rank = 2, Alpha = 4 } }, 1);
        m.Preparation = new BasePreparation { Quantization = new QuantizeSettings { Blocksize = 256 }, BaseWeightsSha256 = "00ff" };
        set.Save(adapter, "tiny", Model);
        var (code, _, err) = CliHarness.Run("generate", "--model", Model, "--adapter", adapter, "--input-ids", "1,2,3", "--max-new-tokens", "2");
        Assert.True(code == 0, err);
        Assert.Contains($"weights sha256 {BasePreparation.HashWeights(Model)}", err);
        Assert.Contains("sha256 00ff", err);
        Assert.Contains("nf4, blocksize 256, double quant", err);

        File.Delete(Path.Combine(adapter, BasePreparation.FileName));   // a PEFT-made adapter: today's behaviour
        (code, _, err) = CliHarness.Run("generate", "--model", Model, "--adapter", adapter, "--input-ids", "1,2,3", "--max-new-tokens", "2");
        Assert.True(code == 0, err);
        Assert.Contains("records no base preparation", err);
        Assert.DoesNotContain("sha256", err);

        File.WriteAllText(Path.Combine(adapter, BasePreparation.FileName), "{\"format\": \"vlmtune-base-preparation\", \"version\": 1, \"compute_dtype\": \"float64\", \"base_weights_sha256\": \"x\"}");
        (code, _, err) = CliHarness.Run("generate", "--model", Model, "--adapter", adapter, "--input-ids", "1,2,3", "--max-new-tokens", "2");
        Assert.Equal(1, code);
        Assert.Contains(BasePreparation.FileName, err);
        Assert.Contains("compute_dtype", err);
        Assert.DoesNotContain("   at ", err);
    }
}
