using System.CommandLine;
using System.Diagnostics;
using VlmTune.Models.SmolVlm.Merge;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Quantization;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune merge`: fold a PEFT adapter into its base and export a standalone HF checkpoint. The merge base is explicit:
/// `original` (W + ΔW; for plain LoRA adapters) or `dequantized` (dequant(quant(W)) + ΔW; what a QLoRA adapter saw in
/// training). The drift between the merged checkpoint and base + adapter is printed.
/// </summary>
public static class MergeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Base checkpoint directory, or a Hub id org/name[@revision] (HF cache).", Required = true };
        var adapter = new Option<string>("--adapter") { Description = "PEFT adapter directory.", Required = true };
        var output = new Option<string>("--out") { Description = "Output directory (must be empty unless --force).", Required = true };
        var dtype = new Option<string?>("--dtype") { Description = "bf16 or f32 (default: the base checkpoint's dtype)." };
        var onto = new Option<string>("--merge-onto")
        {
            Description = "original: add the deltas to the base's own weights (plain LoRA). dequantized: add them to dequant(quant(W)), " +
                          "the weights a QLoRA adapter was trained against (use this for QLoRA adapters).",
            DefaultValueFactory = _ => "original",
        };
        var trainType = new Option<string>("--train-quant-type") { Description = "With --merge-onto dequantized: nf4 or fp4 as in training.", DefaultValueFactory = _ => "nf4" };
        var quantize = new Option<string?>("--quantize") { Description = "Also quantise the merged checkpoint: nf4 or fp4 (bitsandbytes layout)." };
        var force = new Option<bool>("--force") { Description = "Replace a non-empty output directory." };
        var device = DeviceSelection.CreateOption();
        var command = new Command("merge", "Merge a LoRA/DoRA adapter into its base model and export a Hugging Face checkpoint.")
        {
            model, adapter, output, dtype, onto, trainType, quantize, force, device,
        };
        command.SetAction(r =>
        {
            string baseDir = HubModels.Resolve(r.GetValue(model)!), adapterDir = r.GetValue(adapter)!, outDir = r.GetValue(output)!;
            if (!File.Exists(Path.Combine(baseDir, "config.json"))) throw new UserErrorException($"{baseDir}: no config.json (not a checkpoint directory)");
            if (!File.Exists(Path.Combine(adapterDir, "adapter_config.json"))) throw new UserErrorException($"{adapterDir}: no adapter_config.json (not a PEFT adapter folder)");
            var options = new MergeOptions
            {
                Onto = r.GetValue(onto) switch
                {
                    "original" => MergeBase.Original,
                    "dequantized" => MergeBase.Dequantized,
                    var o => throw new UserErrorException($"--merge-onto: expected original or dequantized, got '{o}'"),
                },
                TrainingQuantization = new QuantizeSettings { Type = ParseType(r.GetValue(trainType)!, "--train-quant-type") },
                DType = r.GetValue(dtype) switch
                {
                    null => null,
                    "bf16" => DType.BF16,
                    "f32" => DType.F32,
                    var d => throw new UserErrorException($"--dtype: expected bf16 or f32, got '{d}'"),
                },
                QuantizeOutput = r.GetValue(quantize) is { } q ? new QuantizeSettings { Type = ParseType(q, "--quantize") } : null,
                Force = r.GetValue(force),
            };
            var sw = Stopwatch.StartNew();
            var computeOn = DeviceSelection.Resolve(r.GetValue(device), null, m => Console.Error.WriteLine(m), m => Console.Error.WriteLine($"warning: {m}"));
            var drift = ModelMerger.Merge(baseDir, adapterDir, outDir, options, computeOn, m => Console.Error.WriteLine(m));
            Console.WriteLine($"merged onto the {r.GetValue(onto)} base → {outDir} in {sw.Elapsed.TotalSeconds:F1} s");
            ExportFilesStep(baseDir, adapterDir, outDir);
            Console.WriteLine($"drift vs base + adapter on {drift.Samples} samples ({drift.Logits} logits): max |Δlogit| {drift.Max:G3}, mean {drift.Mean:G3}");
            return 0;
        });
        return command;
    }

    /// <summary>The files transformers' AutoModelForVision2Seq / AutoProcessor need, checked against the input.</summary>
    static void ExportFilesStep(string baseDir, string adapterDir, string outDir)
    {
        var report = Checkpoints.Export.HfExportFiles.Complete(baseDir, adapterDir, outDir);
        Console.WriteLine("files for transformers (AutoModelForVision2Seq / AutoProcessor), checked against the input checkpoint:");
        foreach (var e in report) Console.WriteLine($"  {(e.Problem ? "!" : " ")} {e.File}: {e.Status}");
        if (report.Any(e => e.Problem))
            Console.Error.WriteLine($"warning: {report.Count(e => e.Problem)} file problem(s) above: transformers may not load {outDir}");
    }

    static QuantType ParseType(string s, string flag) => s switch
    {
        "nf4" => QuantType.Nf4,
        "fp4" => QuantType.Fp4,
        _ => throw new UserErrorException($"{flag}: expected nf4 or fp4, got '{s}'"),
    };
}
