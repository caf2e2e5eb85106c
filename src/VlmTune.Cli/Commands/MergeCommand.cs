using System.CommandLine;
using System.Diagnostics;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Merge;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Quantization;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune merge`: fold a PEFT adapter into its base and export a standalone HF checkpoint. The merge base:
/// `as-trained` (default: the base the adapter records in vlmtune_base.json — dequant(quant(W)) with the recorded type,
/// blocksize and double quant for a QLoRA adapter, W for a LoRA one; W for an adapter without the record), `original`
/// (W + ΔW) or `dequantized` (dequant(quant(W)) + ΔW, the recorded quantisation unless --train-quant-type overrides the
/// type). The drift between the merged checkpoint and the model as trained is printed.
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
            Description = "as-trained (default): the base recorded in the adapter's vlmtune_base.json (dequant(quant(W)) for QLoRA, W for LoRA; " +
                          "W when the adapter has no record). original: add the deltas to the base's own weights. dequantized: add them to " +
                          "dequant(quant(W)) with the recorded blocksize and double quant (blocksize 64 + double quant without a record).",
            DefaultValueFactory = _ => "as-trained",
        };
        var trainType = new Option<string?>("--train-quant-type") { Description = "With --merge-onto dequantized: nf4 or fp4 (default: as recorded, else nf4)." };
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
            Training.RunDirectory.CheckOutputPath(outDir, "--out", folder: true);
            if (!File.Exists(Path.Combine(baseDir, "config.json"))) throw new UserErrorException($"{baseDir}: no config.json (not a checkpoint directory)");
            if (!File.Exists(Path.Combine(adapterDir, "adapter_config.json"))) throw new UserErrorException($"{adapterDir}: no adapter_config.json (not a PEFT adapter folder)");
            var prep = BasePreparation.TryLoad(adapterDir);
            var recorded = prep?.Quantization;
            var ontoBase = r.GetValue(onto) switch
            {
                "as-trained" => recorded != null ? MergeBase.Dequantized : MergeBase.Original,
                "original" => MergeBase.Original,
                "dequantized" => MergeBase.Dequantized,
                var o => throw new UserErrorException($"--merge-onto: expected as-trained, original or dequantized, got '{o}'"),
            };
            var trained = recorded ?? new QuantizeSettings();
            if (r.GetValue(trainType) is { } tt) trained = trained with { Type = ParseType(tt, "--train-quant-type") };
            Console.Error.WriteLine(prep == null
                ? $"merge base: {(ontoBase == MergeBase.Original ? "the stored weights" : $"dequant(quant(W)), {Bnb4BitFormat.TypeName(trained.Type)} blocksize {trained.Blocksize}")} ({adapterDir} records no base preparation)"
                : $"merge base: {(ontoBase == MergeBase.Original ? "the stored weights" : $"dequant(quant(W)), {Bnb4BitFormat.TypeName(trained.Type)} blocksize {trained.Blocksize}, {(trained.DoubleQuant ? "double quant" : "no double quant")}")}; " +
                  $"trained on: {prep.Describe()} ({BasePreparation.FileName})");
            var options = new MergeOptions
            {
                Onto = ontoBase,
                Preparation = prep,
                TrainingQuantization = trained,
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
            Console.WriteLine($"merged onto the {(ontoBase == MergeBase.Original ? "original" : "dequantized")} base → {outDir} in {sw.Elapsed.TotalSeconds:F1} s");
            ExportFilesStep(baseDir, adapterDir, outDir);
            Console.WriteLine($"drift vs {drift.Reference} on {drift.Samples} samples ({drift.Logits} logits): max |Δlogit| {drift.Max:G3}, mean {drift.Mean:G3}");
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
