using VlmTune.Data.Collation;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;

namespace VlmTune.Data.Loading;

/// <summary>
/// The training pass: builds the micro-batch of given plan positions — re-reads the records, encodes the text again
/// (image headers only; the length must equal the plan's), prepares the images (<see cref="ImagePreparer"/>) and pads
/// the text. Pure in its inputs and thread-safe, so loader workers (<see cref="PrefetchQueue{T}"/>) call it for the
/// batches about to run in any order and the trainer sees the same batches at any worker count.
/// </summary>
public sealed class StreamedLoader
{
    readonly IDataset<SftExample>? _sft;
    readonly IDataset<PreferenceExample>? _dpo;
    readonly SftEncoder? _sftEncoder;
    readonly PreferenceEncoder? _dpoEncoder;
    readonly SftCollator? _sftCollator;
    readonly DpoCollator? _dpoCollator;

    StreamedLoader(DatasetPlan plan, ImagePreparer images, IDataset<SftExample>? sft, IDataset<PreferenceExample>? dpo,
        SmolVlmProcessor processor, EncodingOptions options)
    {
        Plan = plan;
        Images = images;
        _sft = sft;
        _dpo = dpo;
        var text = options with { LoadPixels = false };
        if (sft != null)
        {
            _sftEncoder = new SftEncoder(processor, text);
            _sftCollator = new SftCollator(processor);
        }
        else
        {
            _dpoEncoder = new PreferenceEncoder(processor, text);
            _dpoCollator = new DpoCollator(processor);
        }
    }

    public DatasetPlan Plan { get; }
    public ImagePreparer Images { get; }

    public static StreamedLoader Sft(IDataset<SftExample> source, DatasetPlan plan, SmolVlmProcessor processor, EncodingOptions options, ImagePreparer images) =>
        new(plan, images, source, null, processor, options);

    public static StreamedLoader Preference(IDataset<PreferenceExample> source, DatasetPlan plan, SmolVlmProcessor processor, EncodingOptions options, ImagePreparer images) =>
        new(plan, images, null, source, processor, options);

    /// <summary>The SFT micro-batch of plan positions <paramref name="positions"/>.</summary>
    public StreamedBatch<SftBatch> LoadSft(IReadOnlyList<int> positions)
    {
        if (_sft == null) throw new InvalidOperationException("this loader reads preference pairs");
        var samples = new List<EncodedSample>(positions.Count);
        var images = new List<ImageInput>();
        var tiles = new int[positions.Count];
        for (int b = 0; b < positions.Count; b++)
        {
            var planned = Plan.Samples[positions[b]];
            var ex = _sft.Read(planned.Record);
            var s = _sftEncoder!.Encode(ex) ?? throw Changed(ex.Source, planned, 0);
            if (s.Length != planned.Length) throw Changed(ex.Source, planned, s.Length);
            var prepared = Images.Prepare(ex.Images, s.ImageRows, s.ImageCols, s.ShrunkImages);
            tiles[b] = prepared.Sum(i => i.Tiles);
            images.AddRange(prepared);
            samples.Add(s);
        }
        return new StreamedBatch<SftBatch>(_sftCollator!.CollateText(samples), images.ToArray(), tiles, positions.ToArray());
    }

    /// <summary>The DPO micro-batch of plan positions <paramref name="positions"/> (images once per pair).</summary>
    public StreamedBatch<DpoBatch> LoadPreference(IReadOnlyList<int> positions)
    {
        if (_dpo == null) throw new InvalidOperationException("this loader reads SFT records");
        var pairs = new List<EncodedPair>(positions.Count);
        var images = new List<ImageInput>();
        var tiles = new int[positions.Count];
        for (int b = 0; b < positions.Count; b++)
        {
            var planned = Plan.Samples[positions[b]];
            var ex = _dpo.Read(planned.Record);
            var p = _dpoEncoder!.Encode(ex) ?? throw Changed(ex.Source, planned, 0);
            if (p.Length != planned.Length) throw Changed(ex.Source, planned, p.Length);
            var prepared = Images.Prepare(ex.Images, p.ImageRows, p.ImageCols, p.ShrunkImages);
            tiles[b] = prepared.Sum(i => i.Tiles);
            images.AddRange(prepared);
            pairs.Add(p);
        }
        return new StreamedBatch<DpoBatch>(_dpoCollator!.CollateText(pairs), images.ToArray(), tiles, positions.ToArray());
    }

    static DatasetRecordException Changed(RecordSource source, PlannedSample planned, int now) =>
        new(source, null, now == 0
            ? "the record was usable when the run was planned but is dropped now; did the file or its images change during the run?"
            : $"the record encodes to {now} tokens now but {planned.Length} when the run was planned; did the file or its images change during the run?");
}
