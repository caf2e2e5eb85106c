using System.CommandLine;
using System.Diagnostics;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Quantization;

namespace VlmTune.Cli.Commands;

/// <summary>`vlmtune quantize`: writes a bitsandbytes-format 4-bit copy of a checkpoint (loads in transformers + bnb and here).</summary>
public static class QuantizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Source checkpoint directory.", Required = true };
        var output = new Option<string>("--out") { Description = "Output directory (created; must be empty unless --force).", Required = true };
        var type = new Option<string>("--type") { Description = "nf4 or fp4.", DefaultValueFactory = _ => "nf4" };
        // Double quantisation is on by default (as the QLoRA recipes use it): --no-double-quant turns it off;
        // --double-quant stays accepted for scripts that spell the default out.
        var doubleQuant = new Option<bool>("--double-quant") { Description = "Quantise the block scales too (bnb_4bit_use_double_quant); the default." };
        var noDoubleQuant = new Option<bool>("--no-double-quant") { Description = "Keep the block scales in f32 (bnb_4bit_use_double_quant=False)." };
        var blocksize = new Option<int>("--blocksize") { Description = "Elements per scale block (32–4096, power of two).", DefaultValueFactory = _ => 64 };
        var skip = new Option<string[]>("--skip") { Description = "Module-name fragments to keep unquantised (default: lm_head).", AllowMultipleArgumentsPerToken = true };
        var force = new Option<bool>("--force") { Description = "Replace a non-empty output directory." };
        var command = new Command("quantize", "Quantise a checkpoint's linear layers to 4 bits (NF4/FP4, bitsandbytes layout).")
        {
            model, output, type, doubleQuant, noDoubleQuant, blocksize, skip, force,
        };
        command.SetAction(r =>
        {
            var t = r.GetValue(type) switch
            {
                "nf4" => QuantType.Nf4,
                "fp4" => QuantType.Fp4,
                var other => throw new UserErrorException($"--type: expected nf4 or fp4, got '{other}'"),
            };
            if (r.GetValue(doubleQuant) && r.GetValue(noDoubleQuant)) throw new UserErrorException("--double-quant and --no-double-quant contradict each other: give one");
            var skipped = r.GetValue(skip) is { Length: > 0 } s ? s : ["lm_head"];
            var settings = new QuantizeSettings { Type = t, Blocksize = r.GetValue(blocksize), DoubleQuant = !r.GetValue(noDoubleQuant), Skip = skipped };
            string src = r.GetValue(model)!, dst = r.GetValue(output)!;
            Training.RunDirectory.CheckOutputPath(dst, "--out", folder: true);
            if (!File.Exists(Path.Combine(src, "config.json"))) throw new UserErrorException($"{src}: no config.json (not a checkpoint directory)");
            var sw = Stopwatch.StartNew();
            var (count, before, after) = ModelQuantizer.WriteCheckpoint(src, dst, settings, r.GetValue(force), m => Console.Error.WriteLine(m));
            Console.WriteLine($"quantized {count} linear weights to {r.GetValue(type)} (blocksize {settings.Blocksize}, double quant {settings.DoubleQuant}); " +
                $"weights {before / 1e6:F1} MB → {after / 1e6:F1} MB in {sw.Elapsed.TotalSeconds:F1} s → {dst}");
            return 0;
        });
        return command;
    }
}
