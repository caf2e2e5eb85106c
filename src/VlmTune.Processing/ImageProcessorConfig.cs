using System.Text.Json;
using VlmTune.Processing.Resampling;

namespace VlmTune.Processing;

/// <summary>
/// The settings of the slow SmolVLM / Idefics3 image processor (preprocessor_config.json) plus the processor's
/// <c>image_seq_len</c> (processor_config.json). Defaults are transformers' <c>SmolVLMImageProcessor</c> /
/// <c>SmolVLMProcessor</c> class defaults, which differ from the checkpoints': always load the checkpoint's files
/// (or use <see cref="SmolVlm256M"/>). Keys this port does not use (image_processor_type, processor_class,
/// do_convert_rgb, video settings, …) are ignored; keys it uses are type-checked. <see cref="NonRgbImages"/> is ours.
/// </summary>
public sealed record ImageProcessorConfig
{
    public bool DoResize { get; init; } = true;
    /// <summary>size.longest_edge: stage-1 target of the longest edge (L).</summary>
    public int LongestEdge { get; init; } = 4 * 364;
    /// <summary>max_image_size.longest_edge: the square tile edge (M).</summary>
    public int MaxImageSize { get; init; } = 364;
    public bool DoImageSplitting { get; init; } = true;
    public bool DoRescale { get; init; } = true;
    public double RescaleFactor { get; init; } = 1.0 / 255.0;
    public bool DoNormalize { get; init; } = true;
    public IReadOnlyList<double> ImageMean { get; init; } = [0.5, 0.5, 0.5];
    public IReadOnlyList<double> ImageStd { get; init; } = [0.5, 0.5, 0.5];
    public ResampleFilter Resample { get; init; } = ResampleFilter.Lanczos;
    /// <summary>HF pads tiles to a common count per batch only when true; <see cref="ProcessedImageBatch"/> always pads.</summary>
    public bool DoPad { get; init; } = true;
    /// <summary>processor_config.json image_seq_len: &lt;image&gt; tokens per tile.</summary>
    public int ImageSeqLen { get; init; } = 169;
    /// <summary>Not a preprocessor_config.json key: which transformers release non-RGB images follow (recipe/CLI option).</summary>
    public NonRgbImages NonRgbImages { get; init; } = NonRgbImages.Transformers5;

    /// <summary>SmolVLM-256M-Instruct / 500M-Instruct settings (spec §4.1): 2048 / 512, image_seq_len 64.</summary>
    public static ImageProcessorConfig SmolVlm256M { get; } = new() { LongestEdge = 2048, MaxImageSize = 512, ImageSeqLen = 64 };

    /// <summary>Reads preprocessor_config.json and, when given, processor_config.json (for image_seq_len).</summary>
    public static ImageProcessorConfig Load(string preprocessorConfigPath, string? processorConfigPath = null)
    {
        var config = FromJson(ReadText(preprocessorConfigPath), preprocessorConfigPath);
        if (processorConfigPath is null) return config;
        return config.WithProcessorJson(ReadText(processorConfigPath), processorConfigPath);
    }

    /// <summary>Parses the text of a preprocessor_config.json; <paramref name="sourceName"/> names it in errors.</summary>
    public static ImageProcessorConfig FromJson(string json, string sourceName = "preprocessor_config.json")
    {
        using JsonDocument doc = Parse(json, sourceName);
        JsonElement root = doc.RootElement;
        var reader = new FieldReader(root, sourceName);
        var defaults = new ImageProcessorConfig();
        var config = new ImageProcessorConfig
        {
            DoResize = reader.Bool("do_resize", defaults.DoResize),
            LongestEdge = reader.LongestEdge("size", defaults.LongestEdge),
            MaxImageSize = reader.LongestEdge("max_image_size", defaults.MaxImageSize),
            DoImageSplitting = reader.Bool("do_image_splitting", defaults.DoImageSplitting),
            DoRescale = reader.Bool("do_rescale", defaults.DoRescale),
            RescaleFactor = reader.Double("rescale_factor", defaults.RescaleFactor),
            DoNormalize = reader.Bool("do_normalize", defaults.DoNormalize),
            ImageMean = reader.PerChannel("image_mean", defaults.ImageMean),
            ImageStd = reader.PerChannel("image_std", defaults.ImageStd),
            Resample = reader.Filter("resample", defaults.Resample),
            DoPad = reader.Bool("do_pad", defaults.DoPad),
        };
        for (int c = 0; c < 3; c++)
            if (config.ImageStd[c] == 0.0)
                throw new ImageProcessorConfigException(sourceName, "image_std", $"channel {c} is 0");
        return config;
    }

    /// <summary>This config with image_seq_len taken from the text of a processor_config.json.</summary>
    public ImageProcessorConfig WithProcessorJson(string json, string sourceName = "processor_config.json")
    {
        using JsonDocument doc = Parse(json, sourceName);
        var reader = new FieldReader(doc.RootElement, sourceName);
        return this with { ImageSeqLen = reader.PositiveInt("image_seq_len", ImageSeqLen) };
    }

    static string ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException e) { throw new ImageProcessorConfigException(path, "(file)", e.Message, e); }
        catch (UnauthorizedAccessException e) { throw new ImageProcessorConfigException(path, "(file)", e.Message, e); }
    }

    static JsonDocument Parse(string json, string sourceName)
    {
        try
        {
            JsonDocument doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ImageProcessorConfigException(sourceName, "(root)", $"expected a JSON object, got {doc.RootElement.ValueKind}");
            return doc;
        }
        catch (JsonException e)
        {
            throw new ImageProcessorConfigException(sourceName, "(root)",
                $"invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine}: {e.Message}", e);
        }
    }

    /// <summary>Typed access to optional top-level fields, with errors naming the file and field.</summary>
    readonly struct FieldReader(JsonElement root, string source)
    {
        public bool Bool(string name, bool fallback)
        {
            if (!root.TryGetProperty(name, out JsonElement v)) return fallback;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(name, $"expected true or false, got {v.ValueKind}"),
            };
        }

        public double Double(string name, double fallback)
        {
            if (!root.TryGetProperty(name, out JsonElement v)) return fallback;
            if (v.ValueKind != JsonValueKind.Number) throw Error(name, $"expected a number, got {v.ValueKind}");
            return v.GetDouble();
        }

        public int PositiveInt(string name, int fallback)
        {
            if (!root.TryGetProperty(name, out JsonElement v)) return fallback;
            return Positive(v, name);
        }

        public int LongestEdge(string name, int fallback)
        {
            if (!root.TryGetProperty(name, out JsonElement v)) return fallback;
            if (v.ValueKind != JsonValueKind.Object) throw Error(name, $"expected an object like {{\"longest_edge\": 512}}, got {v.ValueKind}");
            if (!v.TryGetProperty("longest_edge", out JsonElement edge))
                throw Error(name, "only {\"longest_edge\": N} is supported (SmolVLM / Idefics3), found keys " +
                                  string.Join(", ", v.EnumerateObject().Select(p => p.Name)));
            return Positive(edge, name + ".longest_edge");
        }

        public IReadOnlyList<double> PerChannel(string name, IReadOnlyList<double> fallback)
        {
            if (!root.TryGetProperty(name, out JsonElement v)) return fallback;
            if (v.ValueKind == JsonValueKind.Number) return [v.GetDouble(), v.GetDouble(), v.GetDouble()];
            if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 3 ||
                v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number))
                throw Error(name, "expected a number or an array of 3 numbers");
            return v.EnumerateArray().Select(e => e.GetDouble()).ToArray();
        }

        public ResampleFilter Filter(string name, ResampleFilter fallback)
        {
            if (!root.TryGetProperty(name, out JsonElement v)) return fallback;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int id))
                throw Error(name, $"expected a PIL resampling number, got {v}");
            var filter = (ResampleFilter)id;
            if (filter == ResampleFilter.Nearest || !Enum.IsDefined(filter))
                throw Error(name, $"PIL filter {id} is not supported (1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING are)");
            return filter;
        }

        int Positive(JsonElement v, string name)
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n) || n <= 0)
                throw Error(name, $"expected a positive integer, got {v}");
            return n;
        }

        ImageProcessorConfigException Error(string field, string message) => new(source, field, message);
    }
}
