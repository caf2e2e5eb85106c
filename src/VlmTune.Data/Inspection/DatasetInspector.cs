using System.Text.Json;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Data.Loading;

namespace VlmTune.Data.Inspection;

/// <summary>
/// Validates every record of a dataset with the planning pass training runs (<see cref="DatasetPlan"/>: parse, image
/// headers, template, token budget; no pixel decoded) and gathers the token budget and label audit, so its verdicts
/// are exactly those of training with the same processor, max length and encoding options. Bad records never stop
/// the pass, so one run lists them all.
/// </summary>
public static class DatasetInspector
{
    public const int MaxErrorsKept = DatasetPlan.MaxErrorsKept;

    public static DatasetReport Inspect(string path, DatasetKind kind, SmolVlmProcessor processor,
        DatasetOptions? datasetOptions = null, EncodingOptions? encodingOptions = null, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(processor);
        var options = (encodingOptions ?? EncodingOptions.Default) with { LoadPixels = false };
        var dsOptions = datasetOptions ?? DatasetOptions.Default;
        DatasetPlan plan;
        if (kind == DatasetKind.Sft)
        {
            using var ds = DatasetReader.OpenSft(path, dsOptions);
            var sft = new SftEncoder(processor, options);
            plan = DatasetPlan.BuildAll(ds, ex => sft.Encode(ex) is { } s ? DatasetPlan.Measure(s, processor) : null, threads);
        }
        else
        {
            using var ds = DatasetReader.OpenPreference(path, dsOptions);
            var dpo = new PreferenceEncoder(processor, options);
            plan = DatasetPlan.BuildAll(ds, ex => dpo.Encode(ex) is { } p ? DatasetPlan.Measure(p, processor) : null, threads);
        }
        var samples = plan.Samples;
        var text = samples.Select(s => s.TextTokens).ToList();
        var image = samples.Select(s => s.ImageTokens).ToList();
        var total = samples.Select(s => s.Length).ToList();
        return new DatasetReport
        {
            File = path, Kind = kind, MaxLength = processor.MaxLength, Records = plan.Records, Valid = plan.Count,
            Errors = plan.Errors, ErrorCount = plan.ErrorCount, Dropped = plan.Dropped,
            Shrunk = samples.Count(s => s.Shrunk), Truncated = samples.Count(s => s.Truncated),
            TextTokens = TokenStats.Of(text), ImageTokens = TokenStats.Of(image), TotalTokens = TokenStats.Of(total),
            TokenSum = total.Sum(x => (long)x), SupervisedSum = samples.Sum(s => (long)s.Supervised), ImageTokenSum = image.Sum(x => (long)x),
            SupervisedImageTokens = samples.Sum(s => (long)s.SupervisedImage),
        };
    }

    /// <summary>
    /// The record format of a JSONL file from its first records that parse as JSON objects: "chosen" and "rejected"
    /// → DPO; "messages" or "completion" → SFT. Null when neither shows in the first <paramref name="probe"/> records.
    /// </summary>
    public static DatasetKind? DetectKind(string path, int probe = 20)
    {
        // JSONL only: a parquet file, a folder of shards or a Hub id is not read here (the caller's --kind or sft applies).
        if (!File.Exists(path) || path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase)) return null;
        using var reader = new StreamReader(path, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        int seen = 0;
        while (seen < probe && reader.ReadLine() is { } line)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            seen++;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) continue;
                var root = doc.RootElement;
                if (root.TryGetProperty("chosen", out _) && root.TryGetProperty("rejected", out _)) return DatasetKind.Dpo;
                if (root.TryGetProperty("messages", out _) || root.TryGetProperty("completion", out _)) return DatasetKind.Sft;
            }
            catch (JsonException) { }
        }
        return null;
    }
}
