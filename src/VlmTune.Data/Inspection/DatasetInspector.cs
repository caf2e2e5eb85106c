using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;

namespace VlmTune.Data.Inspection;

/// <summary>
/// Validates every record of a dataset (parse, image decode, template, token budget) and gathers the token budget
/// and label audit. Images are decoded but not resampled (<see cref="EncodingOptions.LoadPixels"/> = false): grids,
/// token counts and labels are exactly those of training. Under Error every bad record is still visited and
/// counted, so one run lists them all.
/// </summary>
public static class DatasetInspector
{
    public const int MaxErrorsKept = 50;

    public static DatasetReport Inspect(string path, DatasetKind kind, SmolVlmProcessor processor,
        DatasetOptions? datasetOptions = null, EncodingOptions? encodingOptions = null)
    {
        ArgumentNullException.ThrowIfNull(processor);
        var options = (encodingOptions ?? EncodingOptions.Default) with { LoadPixels = false };
        var dsOptions = datasetOptions ?? DatasetOptions.Default;
        var sft = new SftEncoder(processor, options);
        var dpo = new PreferenceEncoder(processor, options);
        var errors = new List<DatasetRecordException>();
        int errorCount = 0, valid = 0, dropped = 0, shrunk = 0, truncated = 0, records;
        var text = new List<int>();
        var image = new List<int>();
        var total = new List<int>();
        long supervised = 0, supervisedImage = 0;

        void Add(int textTokens, int imageTokens, bool wasShrunk, bool wasTruncated)
        {
            valid++;
            text.Add(textTokens);
            image.Add(imageTokens);
            total.Add(textTokens + imageTokens);
            if (wasShrunk) shrunk++;
            if (wasTruncated) truncated++;
        }

        if (kind == DatasetKind.Sft)
        {
            using var ds = DatasetReader.OpenSft(path, dsOptions);
            records = ds.Count;
            for (int i = 0; i < ds.Count; i++)
            {
                try
                {
                    var s = sft.Encode(ds.Read(i));
                    if (s is null) { dropped++; continue; }
                    Add(s.TextTokenCount, s.ImageTokenCount, s.ShrunkImages, s.Truncated);
                    for (int t = 0; t < s.Length; t++)
                    {
                        if (s.Labels[t] == LabelMask.IgnoreIndex) continue;
                        supervised++;
                        if (processor.TokenIds.IsImageRelated(s.InputIds[t])) supervisedImage++;
                    }
                }
                catch (DatasetRecordException e) { Record(e); }
            }
        }
        else
        {
            using var ds = DatasetReader.OpenPreference(path, dsOptions);
            records = ds.Count;
            for (int i = 0; i < ds.Count; i++)
            {
                try
                {
                    var p = dpo.Encode(ds.Read(i));
                    if (p is null) { dropped++; continue; }
                    Add(p.Length - p.PromptImageTokenCount, p.PromptImageTokenCount, p.ShrunkImages, p.Truncated);
                    var longer = p.ChosenIds.Length >= p.RejectedIds.Length ? p.ChosenIds : p.RejectedIds;
                    supervised += longer.Length;
                    supervisedImage += longer.Count(processor.TokenIds.IsImageRelated);
                }
                catch (DatasetRecordException e) { Record(e); }
            }
        }

        return new DatasetReport
        {
            File = path, Kind = kind, MaxLength = processor.MaxLength, Records = records, Valid = valid,
            Errors = errors, ErrorCount = errorCount, Dropped = dropped, Shrunk = shrunk, Truncated = truncated,
            TextTokens = TokenStats.Of(text), ImageTokens = TokenStats.Of(image), TotalTokens = TokenStats.Of(total),
            TokenSum = total.Sum(x => (long)x), SupervisedSum = supervised, ImageTokenSum = image.Sum(x => (long)x),
            SupervisedImageTokens = supervisedImage,
        };

        void Record(DatasetRecordException e)
        {
            errorCount++;
            if (errors.Count < MaxErrorsKept) errors.Add(e);
        }
    }
}
