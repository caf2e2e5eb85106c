using System.Diagnostics;
using VlmTune.Data;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Data.Loading;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;

namespace VlmTune.Training;

/// <summary>
/// The data side both trainers share: the planning pass (train, and eval from its own file or split off train), the
/// sample order (seeded shuffle, optional length grouping), the streamed loader behind a prefetch queue of
/// <see cref="RunSettings.Workers"/> threads, the image-feature cache and the features of a batch.
/// Legend: n tiles, M tile edge, S' image tokens per tile, Dt text width.
/// </summary>
internal sealed class DataFeed : IDisposable
{
    readonly List<IDisposable> _sources = [];
    readonly ITrainingObserver _log;
    readonly RunSettings _s;

    DataFeed(RunSettings s, ITrainingObserver log)
    {
        _s = s;
        _log = log;
    }

    public DatasetPlan Train { get; private set; } = null!;
    public DatasetPlan Eval { get; private set; } = null!;
    public StreamedLoader TrainLoader { get; private set; } = null!;
    public StreamedLoader EvalLoader { get; private set; } = null!;
    public FeatureCacheContext? Cache { get; private set; }

    EncodingOptions Encoding => new() { AssistantOnly = _s.AssistantOnly, Overflow = _s.Overflow };
    DatasetOptions Options => new()
    {
        OnBadRecord = _s.OnBadRecord, AllowOutsideRoot = _s.AllowOutsideRoot, Split = _s.DataSplit, Config = _s.DataConfig, Log = _log.Info,
    };

    /// <summary>Plans the SFT data and opens the loaders (eval: data.eval, or records split off train).</summary>
    public static DataFeed OpenSft(RunSettings s, SmolVlmProcessor processor, SmolVlmModel model, AdapterSet adapters, ITrainingObserver log) =>
        OpenFeed<SftExample>(s, processor, model, adapters, log, DatasetReader.OpenSft,
            (src, options, bad, _) => DatasetPlan.Sft(src, processor, options, bad, PlanThreads(s)),
            (src, plan, options, images) => StreamedLoader.Sft(src, plan, processor, options, images));

    /// <summary>
    /// Plans the preference pairs and opens the loaders (eval as SFT's); pairs that train nothing (chosen equal to
    /// rejected, an empty answer) are warned about, in file order.
    /// </summary>
    public static DataFeed OpenPreference(RunSettings s, SmolVlmProcessor processor, SmolVlmModel model, AdapterSet adapters, ITrainingObserver log)
    {
        var warnings = new System.Collections.Concurrent.ConcurrentBag<(int Line, string Text)>();
        var feed = OpenFeed<PreferenceExample>(s, processor, model, adapters, log, DatasetReader.OpenPreference,
            (src, options, bad, check) => DatasetPlan.Preference(src, processor, options, bad, PlanThreads(s), check),
            (src, plan, options, images) => StreamedLoader.Preference(src, plan, processor, options, images),
            checkTrain: pair => { foreach (var w in Dpo.PairChecks.Warnings(pair)) warnings.Add((pair.Source.Line, w)); });
        foreach (var w in Dpo.PairChecks.Summarise(warnings.OrderBy(x => x.Line).ThenBy(x => x.Text, StringComparer.Ordinal).Select(x => x.Text)))
            log.Warn(w);
        return feed;
    }

    /// <summary>
    /// The shared opening: train planned (each parsed record shown to <paramref name="checkTrain"/>), eval from data.eval
    /// (its split) or held out of train by <see cref="Split"/>, one loader each, skipped records summarised.
    /// </summary>
    static DataFeed OpenFeed<T>(RunSettings s, SmolVlmProcessor processor, SmolVlmModel model, AdapterSet adapters, ITrainingObserver log,
        Func<string, DatasetOptions, IRecordDataset<T>> open,
        Func<IDataset<T>, EncodingOptions, BadRecordLog, Action<T>?, DatasetPlan> plan,
        Func<IDataset<T>, DatasetPlan, EncodingOptions, ImagePreparer, StreamedLoader> loader,
        Action<T>? checkTrain = null)
    {
        var feed = new DataFeed(s, log);
        try
        {
            var images = feed.OpenImages(processor, model, adapters);
            var badRecords = new BadRecordLog(s.OnBadRecord);
            var train = feed.Open(open, s.TrainData);
            var trainPlan = feed.Plan(train, src => plan(src, feed.Encoding, badRecords, checkTrain));
            var evalSource = train;
            DatasetPlan evalPlan;
            if (s.EvalData != null)
            {
                evalSource = feed.Open(open, s.EvalData, s.EvalSplit);
                evalPlan = feed.Plan(evalSource, src => plan(src, feed.Encoding, badRecords, null));
            }
            else (trainPlan, evalPlan) = Split(s, trainPlan);
            if (badRecords.SkippedCount > 0) log.Warn(badRecords.Summary());
            (feed.Train, feed.Eval) = (trainPlan, evalPlan);
            feed.TrainLoader = loader(train, trainPlan, feed.Encoding, images);
            feed.EvalLoader = loader(evalSource, evalPlan, feed.Encoding, images);
            return feed;
        }
        catch
        {
            feed.Dispose();
            throw;
        }
    }

    /// <summary>The planning pass uses the loader's threads plus the training thread (it runs before training starts).</summary>
    static int PlanThreads(RunSettings s) => Math.Max(1, s.Workers + 1);

    /// <summary>Opens a JSONL file, parquet file or shard folder, or a Hub dataset id (its <paramref name="split"/>, default data.split).</summary>
    IDataset<T> Open<T>(Func<string, DatasetOptions, IRecordDataset<T>> open, string path, string? split = null)
    {
        if (!DatasetReader.Exists(path)) throw new FileNotFoundException($"{path}: data file not found");
        var ds = open(path, split == null ? Options : Options with { Split = split });
        _sources.Add(ds);
        return ds;
    }

    DatasetPlan Plan<T>(IDataset<T> source, Func<IDataset<T>, DatasetPlan> plan)
    {
        var sw = Stopwatch.StartNew();
        var p = plan(source);
        _log.Info($"planned {source.Path}: {p.Records} records read (image headers only) in {sw.Elapsed.TotalSeconds:F2} s: " +
                  $"{p.Count} usable, {p.ErrorCount} bad, {p.Dropped} dropped, {p.Samples.Count(x => x.Shrunk)} shrunk, " +
                  $"{p.Samples.Sum(x => (long)x.Length)} tokens");
        return p;
    }

    /// <summary>Held-out records split off train (eval_count, or eval_fraction rounded up; at most half), seeded as before streaming.</summary>
    static (DatasetPlan Train, DatasetPlan Eval) Split(RunSettings s, DatasetPlan train)
    {
        if (s.EvalCount <= 0 && s.EvalFraction <= 0) return (train, train.Subset([]));
        int want = s.EvalCount > 0 ? s.EvalCount : (int)Math.Ceiling(s.EvalFraction * train.Count - 1e-9);
        var order = SeededShuffle.Permutation(train.Count, s.Seed ^ 0xE7A1);
        var held = order.Take(Math.Min(want, train.Count / 2)).ToHashSet();
        return (train.Subset(Enumerable.Range(0, train.Count).Where(i => !held.Contains(i))), train.Subset(held.Order()));
    }

    /// <summary>The run's sample order over the training plan (length-grouped in micro-batches when asked).</summary>
    public EpochOrder Order() => new(Train.Count, _s.Seed, _s.Shuffle,
        _s.GroupByLength ? i => Train.Samples[i].Length : null, _s.BatchSize);

    /// <summary>Padding share over one epoch's micro-batches of <paramref name="order"/>.</summary>
    public double PaddingFraction(EpochOrder order)
    {
        int b = _s.BatchSize, batches = Train.Count / b;
        return LengthGrouping.PaddingFraction(Enumerable.Range(0, batches)
            .Select(k => (IReadOnlyList<int>)order.Slice((long)k * b, b).Select(i => Train.Samples[i].Length).ToArray()));
    }

    /// <summary>A queue of items [first, end) from <paramref name="produce"/>, prepared by the run's data workers.</summary>
    public PrefetchQueue<T> Queue<T>(Func<long, T> produce, long first, long end) =>
        new(produce, first, end, _s.Workers, Math.Max(1, _s.Prefetch));

    ImagePreparer OpenImages(SmolVlmProcessor processor, SmolVlmModel model, AdapterSet adapters)
    {
        if (_s.FeatureCache)
        {
            var trained = adapters.TrainableParameters.Select(p => p.Key).FirstOrDefault(k => k.Contains("vision_model") || k.Contains("connector"));
            if (trained != null)
                _log.Info($"feature cache off: the vision tower or connector is trained ({trained})");
            else
            {
                var sw = Stopwatch.StartNew();
                string weights = FeatureCacheWeights.Fingerprint(_s.ModelDir, _s.Quantization);
                var cache = new ImageFeatureCache(Path.Combine(_s.OutputDir, "image-features"), _s.FeatureCacheBytes, _log.Info);
                var (rows, width) = model.FeatureShape;
                Cache = new FeatureCacheContext(cache, ImagePreparer.ProcessorFingerprint(processor.ImageConfig), weights, rows, width);
                _log.Info($"feature cache: {cache.Directory} ({cache.SizeBytes / 1e6:F1} MB of {cache.MaxBytes / 1e6:F0} MB; " +
                          $"weights fingerprint {weights[..12]} in {sw.Elapsed.TotalSeconds:F2} s)");
            }
        }
        return new ImagePreparer(processor, model.ComputeDType, Cache);
    }

    /// <summary>
    /// Image features (n, S', Dt) of a batch's images in order, in the compute dtype, or null without images. With the
    /// cache, each image is computed on its own (no grad: the towers are frozen), so an image's features never depend
    /// on its batch companions and a cached entry is bit-identical to a recomputed one; without it, one vision pass
    /// over all the batch's tiles, as the model's own forward does.
    /// </summary>
    public Tensor? Features(SmolVlmModel model, ImageInput[] images)
    {
        if (images.Length == 0) return null;
        var dt = model.ComputeDType;
        int m = model.Config.Vision.ImageSize;
        if (Cache == null)
        {
            int n = images.Sum(i => i.Tiles);
            var bytes = new byte[images.Sum(i => (long)i.Pixels!.Length)];
            long at = 0;
            foreach (var img in images)
            {
                img.Pixels!.CopyTo(bytes, at);
                at += img.Pixels.Length;
            }
            return model.ImageFeatures(Ops.FromBytes(bytes, new Shape(n, 3, m, m), dt, model.Device), null, null);
        }
        var (rows, width) = model.FeatureShape;
        var parts = new List<Tensor>(images.Length);
        using (GradMode.NoGrad())
        {
            foreach (var img in images)
            {
                var shape = new Shape(img.Tiles, rows, width);
                if (img.Features != null)
                {
                    Cache.Cache.CountHit();
                    parts.Add(Ops.FromBytes(img.Features, shape, dt, model.Device));
                    continue;
                }
                // Written since the loader worker looked (it runs ahead: e.g. the same image earlier in this batch or in the previous one)?
                if (Cache.Cache.TryGet(img.CacheKey!, img.Tiles, rows, width, dt.Size(), count: false) is { } late)
                {
                    Cache.Cache.CountHit();
                    parts.Add(Ops.FromBytes(late, shape, dt, model.Device));
                    continue;
                }
                Cache.Cache.CountMiss();
                var f = model.ImageFeatures(Ops.FromBytes(img.Pixels!, new Shape(img.Tiles, 3, m, m), dt, model.Device), null, null);
                Cache.Cache.Put(img.CacheKey!, img.Tiles, rows, width, dt.Size(), f.ToBytes());
                parts.Add(f);
            }
        }
        return parts.Count == 1 ? parts[0] : Ops.Concat(parts, 0);
    }

    /// <summary>Logs and resets the cache's hit/miss counts (no-op without the cache).</summary>
    public void LogCache(string when)
    {
        if (Cache == null) return;
        var (hits, misses, written, corrupt) = Cache.Cache.TakeCounts();
        _log.Info($"feature cache {when}: {hits} hits, {misses} misses, {written} written" + (corrupt > 0 ? $", {corrupt} corrupt entries recomputed" : "") +
                  $"; {Cache.Cache.SizeBytes / 1e6:F1} MB on disk");
    }

    public void Dispose()
    {
        foreach (var d in _sources) d.Dispose();
        _sources.Clear();
    }
}
