using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;

namespace VlmTune.Data.Loading;

/// <summary>
/// The planning pass (the cheap one of the two): every record is read and checked (all the file:line:field errors,
/// <see cref="BadRecordPolicy.Skip"/> counts), its images' headers alone are read (size → tile grid → exact token
/// count; no pixel is decoded) and the usable records are listed with their lengths. Training then batches from this
/// list and decodes only the images of the batches about to run. Memory: one <see cref="PlannedSample"/> per record.
/// Records are measured on up to <c>threads</c> threads; results and errors are reported in record order, so the plan
/// does not depend on the thread count.
/// </summary>
public sealed class DatasetPlan
{
    DatasetPlan(string path, int records, PlannedSample[] samples, int dropped, IReadOnlyList<DatasetRecordException> errors, int errorCount)
    {
        Path = path;
        Records = records;
        Samples = samples;
        Dropped = dropped;
        Errors = errors;
        ErrorCount = errorCount;
    }

    public string Path { get; }
    /// <summary>Records in the source, good or bad.</summary>
    public int Records { get; }
    /// <summary>The usable records in source order.</summary>
    public IReadOnlyList<PlannedSample> Samples { get; }
    /// <summary>Too long under overflow drop.</summary>
    public int Dropped { get; }
    /// <summary>The first bad records (at most <see cref="MaxErrorsKept"/>), in record order.</summary>
    public IReadOnlyList<DatasetRecordException> Errors { get; }
    public int ErrorCount { get; }
    public int Count => Samples.Count;
    public const int MaxErrorsKept = 50;

    /// <summary>The plan restricted to <paramref name="indices"/> (positions in <see cref="Samples"/>, kept in the given order).</summary>
    public DatasetPlan Subset(IEnumerable<int> indices) =>
        new(Path, Records, indices.Select(i => Samples[i]).ToArray(), Dropped, Errors, ErrorCount);

    /// <summary>Plans an SFT source: <paramref name="options"/> as training encodes (pixels are never loaded here).</summary>
    public static DatasetPlan Sft(IDataset<SftExample> source, SmolVlmProcessor processor, EncodingOptions options, BadRecordLog log, int threads)
    {
        var encoder = new SftEncoder(processor, options with { LoadPixels = false });
        return Build(source, ex => encoder.Encode(ex) is { } s ? Measure(s, processor) : null, log, threads);
    }

    /// <summary>Plans a preference (DPO) source.</summary>
    /// <remarks><paramref name="check"/>, when given, sees every pair that parsed (from several threads at once).</remarks>
    public static DatasetPlan Preference(IDataset<PreferenceExample> source, SmolVlmProcessor processor, EncodingOptions options, BadRecordLog log, int threads,
        Action<PreferenceExample>? check = null)
    {
        var encoder = new PreferenceEncoder(processor, options with { LoadPixels = false });
        return Build(source, ex =>
        {
            check?.Invoke(ex);
            return encoder.Encode(ex) is { } p ? Measure(p, processor) : null;
        }, log, threads);
    }

    internal static PlannedSample Measure(EncodedSample s, SmolVlmProcessor processor)
    {
        int supervised = 0, supervisedImage = 0;
        for (int t = 0; t < s.Length; t++)
        {
            if (s.Labels[t] == LabelMask.IgnoreIndex) continue;
            supervised++;
            if (processor.TokenIds.IsImageRelated(s.InputIds[t])) supervisedImage++;
        }
        return new PlannedSample(-1, s.Length, s.ImageTokenCount, supervised, supervisedImage, s.ShrunkImages, s.Truncated);
    }

    internal static PlannedSample Measure(EncodedPair p, SmolVlmProcessor processor)
    {
        var longer = p.ChosenIds.Length >= p.RejectedIds.Length ? p.ChosenIds : p.RejectedIds;
        return new PlannedSample(-1, p.Length, p.PromptImageTokenCount, longer.Length, longer.Count(processor.TokenIds.IsImageRelated),
            p.ShrunkImages, p.Truncated);
    }

    /// <summary>
    /// Measures every record (null = dropped). Under <see cref="BadRecordPolicy.Error"/> the first bad record in record
    /// order is thrown (later records are not waited for); under Skip every record is visited and bad ones counted.
    /// </summary>
    public static DatasetPlan Build<T>(IDataset<T> source, Func<T, PlannedSample?> measure, BadRecordLog log, int threads)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(log);
        int n = source.Count;
        var results = new PlannedSample?[n];
        var failed = new DatasetRecordException?[n];
        var dropped = new bool[n];
        bool stopAtFirst = log.Policy == BadRecordPolicy.Error;
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, (i, state) =>
        {
            if (state.ShouldExitCurrentIteration && state.LowestBreakIteration < i) return;
            try
            {
                var m = measure(source.Read(i));
                if (m is { } v) results[i] = v with { Record = i };
                else dropped[i] = true;
            }
            catch (DatasetRecordException e)
            {
                failed[i] = e;
                if (stopAtFirst) state.Break();
            }
        });
        var samples = new List<PlannedSample>(n);
        var errors = new List<DatasetRecordException>();
        int errorCount = 0, droppedCount = 0;
        for (int i = 0; i < n; i++)
        {
            if (failed[i] is { } e)
            {
                errorCount++;
                if (errors.Count < MaxErrorsKept) errors.Add(e);
                log.Handle(e);            // throws under Error
                continue;
            }
            if (dropped[i]) droppedCount++;
            else if (results[i] is { } s) samples.Add(s);
        }
        return new DatasetPlan(source.Path, n, samples.ToArray(), droppedCount, errors, errorCount);
    }

    /// <summary>
    /// Inspection variant of <see cref="Build{T}"/>: never throws for bad records, whatever the policy, so one run lists
    /// them all (<see cref="Errors"/>, <see cref="ErrorCount"/>).
    /// </summary>
    public static DatasetPlan BuildAll<T>(IDataset<T> source, Func<T, PlannedSample?> measure, int threads) =>
        Build(source, measure, new BadRecordLog(BadRecordPolicy.Skip), threads);
}
