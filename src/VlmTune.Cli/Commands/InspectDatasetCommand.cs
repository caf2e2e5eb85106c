using System.CommandLine;
using VlmTune.Data;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Data.Inspection;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune inspect dataset`: validates every record against the model's processor, then prints the token budget and
/// the label audit. Exit code 1 when bad records are found under --on-bad-record error (the default).
/// </summary>
public static class InspectDatasetCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory (tokenizer.json, chat template, processor configs), or a Hub id org/name[@revision].", Required = true };
        var data = new Option<string>("--data") { Description = "The dataset: JSONL, a .parquet file or folder of shards (train split), or a Hub dataset id.", Required = true };
        var kind = new Option<string>("--kind") { Description = "Record format.", DefaultValueFactory = _ => "sft" };
        kind.AcceptOnlyFromAmong("sft", "dpo");
        var maxLength = new Option<int?>("--max-length") { Description = "Maximum tokens per sample (default: the model's model_max_length)." };
        var onBad = new Option<string>("--on-bad-record") { Description = "Fail on bad records, or skip and count them.", DefaultValueFactory = _ => "error" };
        onBad.AcceptOnlyFromAmong("error", "skip");
        var overflow = new Option<string>("--overflow") { Description = "Samples longer than the max length.", DefaultValueFactory = _ => "error" };
        overflow.AcceptOnlyFromAmong("error", "drop", "shrink-images");
        var allowOutside = new Option<bool>("--allow-outside-root") { Description = "Allow image paths outside the dataset's folder." };
        var command = new Command("dataset", "Validate a dataset and print its token budget and label audit.");
        foreach (var o in new Option[] { model, data, kind, maxLength, onBad, overflow, allowOutside }) command.Options.Add(o);
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(kind) == "dpo" ? DatasetKind.Dpo : DatasetKind.Sft,
            r.GetValue(maxLength), r.GetValue(onBad) == "skip" ? BadRecordPolicy.Skip : BadRecordPolicy.Error,
            r.GetValue(overflow) switch { "drop" => OverflowPolicy.Drop, "shrink-images" => OverflowPolicy.ShrinkImages, _ => OverflowPolicy.Error },
            r.GetValue(allowOutside)));
        return command;
    }

    static int Run(string modelDir, string dataPath, DatasetKind kind, int? maxLength, BadRecordPolicy policy, OverflowPolicy overflow, bool allowOutside)
    {
        if (maxLength is <= 0) throw new UserErrorException($"--max-length must be positive, got {maxLength}");
        var processor = SmolVlmProcessor.FromDirectory(HubModels.Resolve(modelDir), maxLength);
        var report = DatasetInspector.Inspect(dataPath, kind, processor,
            new DatasetOptions { OnBadRecord = policy, AllowOutsideRoot = allowOutside },
            new EncodingOptions { Overflow = overflow });

        foreach (var e in report.Errors)
            Console.Error.WriteLine($"{(policy == BadRecordPolicy.Error ? "error" : "skipped")}: {e.Message}");
        if (report.ErrorCount > report.Errors.Count)
            Console.Error.WriteLine($"... and {report.ErrorCount - report.Errors.Count} more bad record(s)");

        Console.WriteLine($"dataset {report.File} ({(kind == DatasetKind.Dpo ? "dpo" : "sft")}): {report.Records} records, {report.Valid} valid, " +
                          $"{report.ErrorCount} bad, {report.Dropped} dropped, {report.Shrunk} shrunk to global-only images");
        Console.WriteLine($"max length {report.MaxLength}");
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
