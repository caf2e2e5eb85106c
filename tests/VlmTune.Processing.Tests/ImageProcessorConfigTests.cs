using VlmTune.Processing.Resampling;

namespace VlmTune.Processing.Tests;

public class ImageProcessorConfigTests
{
    // The 256M preprocessor_config.json as described by spec §4.1 (the real file was not reachable).
    const string Preprocessor256M = """
        {
          "do_convert_rgb": true, "do_image_splitting": true, "do_normalize": true, "do_pad": true,
          "do_rescale": true, "do_resize": true,
          "image_mean": [0.5, 0.5, 0.5], "image_processor_type": "Idefics3ImageProcessor",
          "image_std": [0.5, 0.5, 0.5], "max_image_size": {"longest_edge": 512},
          "processor_class": "Idefics3Processor", "resample": 1, "rescale_factor": 0.00392156862745098,
          "size": {"longest_edge": 2048}
        }
        """;

    [Fact]
    public void Reads_the_256m_settings()
    {
        var config = ImageProcessorConfig.FromJson(Preprocessor256M).WithProcessorJson("""{"image_seq_len": 64, "processor_class": "Idefics3Processor"}""");
        Assert.Equal(2048, config.LongestEdge);
        Assert.Equal(512, config.MaxImageSize);
        Assert.Equal(ResampleFilter.Lanczos, config.Resample);
        Assert.Equal(64, config.ImageSeqLen);
        Assert.Equal(1 / 255.0, config.RescaleFactor);
        Assert.Equal([0.5, 0.5, 0.5], config.ImageMean);
        Assert.True(config.DoImageSplitting && config.DoResize && config.DoRescale && config.DoNormalize && config.DoPad);
    }

    [Fact]
    public void Missing_keys_take_the_transformers_class_defaults()
    {
        var config = ImageProcessorConfig.FromJson("{}");
        Assert.Equal(4 * 364, config.LongestEdge);
        Assert.Equal(364, config.MaxImageSize);
        Assert.Equal(169, config.ImageSeqLen);
        Assert.Equal(ResampleFilter.Lanczos, config.Resample);
    }

    [Fact]
    public void Scalar_mean_and_std_apply_to_every_channel()
    {
        var config = ImageProcessorConfig.FromJson("""{"image_mean": 0.25, "image_std": 2}""");
        Assert.Equal([0.25, 0.25, 0.25], config.ImageMean);
        Assert.Equal([2.0, 2.0, 2.0], config.ImageStd);
    }

    [Theory]
    [InlineData("""{"size": {"height": 10, "width": 20}}""", "size")]
    [InlineData("""{"size": {"longest_edge": -4}}""", "size.longest_edge")]
    [InlineData("""{"max_image_size": 512}""", "max_image_size")]
    [InlineData("""{"resample": 0}""", "resample")]
    [InlineData("""{"resample": "lanczos"}""", "resample")]
    [InlineData("""{"do_resize": "yes"}""", "do_resize")]
    [InlineData("""{"image_mean": [0.5, 0.5]}""", "image_mean")]
    [InlineData("""{"image_std": [0.5, 0, 0.5]}""", "image_std")]
    [InlineData("""{"rescale_factor": null}""", "rescale_factor")]
    [InlineData("""[1, 2]""", "(root)")]
    [InlineData("""{"size": """, "(root)")]
    public void Bad_fields_are_reported_with_file_and_field(string json, string field)
    {
        var ex = Assert.Throws<ImageProcessorConfigException>(() => ImageProcessorConfig.FromJson(json, "models/x/preprocessor_config.json"));
        Assert.Equal(field, ex.Field);
        Assert.Equal("models/x/preprocessor_config.json", ex.SourceName);
        Assert.StartsWith($"models/x/preprocessor_config.json: field '{field}'", ex.Message);
    }

    [Fact]
    public void Load_reads_both_files_and_names_a_missing_one()
    {
        string dir = Directory.CreateTempSubdirectory("vlmtune-processor-").FullName;
        try
        {
            string pre = Path.Combine(dir, "preprocessor_config.json"), proc = Path.Combine(dir, "processor_config.json");
            File.WriteAllText(pre, Preprocessor256M);
            File.WriteAllText(proc, """{"image_seq_len": 64}""");
            var config = ImageProcessorConfig.Load(pre, proc);
            Assert.Equal((2048, 512, 64), (config.LongestEdge, config.MaxImageSize, config.ImageSeqLen));
            var ex = Assert.Throws<ImageProcessorConfigException>(() => ImageProcessorConfig.Load(Path.Combine(dir, "missing.json")));
            Assert.Contains("missing.json", ex.Message);
            File.WriteAllText(proc, """{"image_seq_len": 0}""");
            var bad = Assert.Throws<ImageProcessorConfigException>(() => ImageProcessorConfig.Load(pre, proc));
            Assert.Equal("image_seq_len", bad.Field);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
