using System.CommandLine;
using VlmTune.Data;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Data.Inspection;
using R = VlmTune.Recipes;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune inspect dataset`: validates every record with the planning pass training runs (image headers only), then
/// prints the token budget and the label audit. With --recipe the recipe's model, data, max length and data settings
/// are used (flags given as well win), so the verdicts match what training will do. The record format is detected
/// (DPO when records hold "chosen" and "rejected") unless --kind is given. Exit code 1 when bad records are found
/// under --on-bad-record error (the default).
/// </summary>
public static class InspectDatasetCommand
{
    public static Command Create()
    {
        var recipe = new Option<string?>("--recipe") { Description = "Take the model, data, max length, overflow and bad-record settings from this recipe (flags override)." };
        var model = new Option<string?>("--model") { Description = "Model directory (tokenizer.json, chat template, processor configs) or a Hub id org/name[@revision]; required without --recipe." };
        var data = new Option<string?>("--data") { Description = "The dataset: JSONL, a .parquet file or folder of shards (train split), or a Hub dataset id; required without --recipe (then data.train)." };
        var kind = new Option<string?>("--kind") { Description = "Record format (default: detected from the records, or the recipe's kind)." };
        kind.AcceptOnlyFromAmong("sft", "dpo");
        var maxLength = new Option<int?>("--max-length") { Description = "Maximum tokens per sample (default: the recipe's data.max_length, else the model's model_max_length)." };
        var onBad = new Option<string?>("--on-bad-record") { Description = "Fail on bad records, or skip and count them (default error)." };
        onBad.AcceptOnlyFromAmong("error", "skip");
        var overflow = new Option<string?>("--overflow") { Description = "Samples longer than the max length (default error)." };
        overflow.AcceptOnlyFromAmong("error", "drop", "shrink-images");
        var allowOutside = new Option<bool>("--allow-outside-root") { Description = "Allow image paths outside the dataset's folder." };
        var nonRgb = new Option<string?>("--non-rgb-images") { Description = ImageOptions.NonRgbHelp + " Default: the recipe's data.non_rgb_images, else transformers-5." };
        nonRgb.AcceptOnlyFromAmong("transformers-5", "transformers-4");
        var command = new Command("dataset", "Validate a dataset and print its token budget and label audit.");
        foreach (var o in new Option[] { recipe, model, data, kind, maxLength, onBad, overflow, allowOutside, nonRgb }) command.Options.Add(o);
        command.SetAction(r => Run(r.GetValue(recipe), r.GetValue(model), r.GetValue(data), r.GetValue(kind), r.GetValue(maxLength),
            r.GetValue(onBad), r.GetValue(overflow), r.GetValue(allowOutside), r.GetValue(nonRgb)));
        return command;
    }

    static int Run(string? recipePath, string? modelDir, string? dataPath, string? kindName, int? maxLength, string? onBadName, string? overflowName,
        bool allowOutside, string? nonRgbName)
    {
        if (maxLength is <= 0) throw new UserErrorException($"--max-length must be positive, got {maxLength}");
        R.Recipe? recipe = null;
        if (recipePath != null)
        {
            if (!File.Exists(recipePath)) throw new UserErrorException($"{recipePath}: recipe file not found");
            recipe = R.RecipeLoader.Load(recipePath, []);
        }
        modelDir ??= recipe?.Model.Path ?? throw new UserErrorException("--model is required (or give --recipe)");
        dataPath ??= recipe?.Data.Train ?? throw new UserErrorException("--data is required (or give --recipe)");
        if (!DatasetReader.Exists(dataPath)) throw new UserErrorException($"{dataPath}: dataset not found");
        maxLength ??= recipe?.Data.MaxLength;
        var policy = (onBadName ?? (recipe?.Data.OnBadRecord == R.BadRecordPolicy.Skip ? "skip" : "error")) == "skip" ? BadRecordPolicy.Skip : BadRecordPolicy.Error;
        var overflow = overflowName switch
        {
            "drop" => OverflowPolicy.Drop,
            "shrink-images" => OverflowPolicy.ShrinkImages,
            "error" => OverflowPolicy.Error,
            _ => recipe?.Data.Overflow switch
            {
                R.OverflowPolicy.Drop => OverflowPolicy.Drop,
                R.OverflowPolicy.ShrinkImages => OverflowPolicy.ShrinkImages,
                _ => OverflowPolicy.Error,
            },
        };
        allowOutside |= recipe?.Data.AllowOutsideRoot ?? false;
        DatasetKind kind;
        string kindSource;
        if (kindName != null) (kind, kindSource) = (kindName == "dpo" ? DatasetKind.Dpo : DatasetKind.Sft, "--kind");
        else if (recipe != null) (kind, kindSource) = (recipe.Kind == R.RecipeKind.Dpo ? DatasetKind.Dpo : DatasetKind.Sft, "the recipe's kind");
        else if (DatasetInspector.DetectKind(dataPath) is { } detected) (kind, kindSource) = (detected, "detected from the records");
        else (kind, kindSource) = (DatasetKind.Sft, "no record shows its kind; assuming sft");

        nonRgbName ??= recipe?.Data.NonRgbImages == R.NonRgbImages.Transformers4 ? "transformers-4" : "transformers-5";
        var processor = SmolVlmProcessor.FromDirectory(HubModels.Resolve(modelDir), maxLength)
            .WithNonRgbImages(ImageOptions.ParseNonRgbImages(nonRgbName));
        var report = DatasetInspector.Inspect(dataPath, kind, processor,
            new DatasetOptions { OnBadRecord = policy, AllowOutsideRoot = allowOutside },
            new EncodingOptions { Overflow = overflow, AssistantOnly = recipe?.Data.AssistantOnly ?? true },
            threads: Math.Max(1, Environment.ProcessorCount));

        foreach (var e in report.Errors)
            Console.Error.WriteLine($"{(policy == BadRecordPolicy.Error ? "error" : "skipped")}: {e.Message}");
        if (report.ErrorCount > report.Errors.Count)
            Console.Error.WriteLine($"... and {report.ErrorCount - report.Errors.Count} more bad record(s)");

        Console.WriteLine($"dataset {report.File} ({(kind == DatasetKind.Dpo ? "dpo" : "sft")}, {kindSource}): {report.Records} records, {report.Valid} valid, " +
                          $"{report.ErrorCount} bad, {report.Dropped} dropped, {report.Shrunk} shrunk to global-only images");
        Console.WriteLine($"max length {report.MaxLength}" + (recipe != null ? $" (recipe {recipePath})" : ""));
        Console.WriteLine("token budget (per sample)     min      mean       p95       max");
        Row("text tokens", report.TextTokens);
        Row("image tokens", report.ImageTokens);
        Row("total", report.TotalTokens);
        Console.WriteLine("label audit");
        Console.WriteLine($"  supervised tokens       {Percent(report.SupervisedShare)} of {report.TokenSum} tokens");
        Console.WriteLine($"  image tokens            {Percent(report.ImageShare)} of the sequence");
        Console.WriteLine($"  supervised image tokens {report.SupervisedImageTokens} (must be 0)");
        if (report.SupervisedImageTokens > 0)
            Console.WriteLine($"WARNING: {report.SupervisedImageTokens} image token(s) would be supervised; this is a VlmTune bug, please report it");
        if (report.ErrorCount > 0 && policy == BadRecordPolicy.Skip)
            Console.WriteLine($"skipped {report.ErrorCount} bad record(s)");

        if (report.ErrorCount > 0 && policy == BadRecordPolicy.Error)
        {
            Console.Error.WriteLine($"error: {report.ErrorCount} bad record(s) in {report.File} (use --on-bad-record skip to leave them out)");
            return 1;
        }
        return 0;
    }

    static void Row(string name, TokenStats s) =>
        Console.WriteLine($"  {name,-26}{s.Min,6}{s.Mean,10:F1}{s.P95,10}{s.Max,10}");

    static string Percent(double share) => $"{share * 100,6:F1}%";
}
