using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Models.SmolVlm.Init;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests.Init;

/// <summary>init tiny → SmolVlmModel.Load → forward; the written folder equals the in-memory random model.</summary>
public sealed class CheckpointInitializerTests : IDisposable
{
    static readonly InitPreset TinyPreset = InitPreset.Find("tiny");
    readonly string _tmp = InitTestSupport.NewTempDir();

    public void Dispose() => InitTestSupport.Delete(_tmp);

    string WriteTiny(string name, ulong seed, DType dtype, bool force = false)
    {
        var files = TinyPreset.BuildFiles(InitTestSupport.TinyTokenizerFiles(), out _);
        return CheckpointInitializer.Write(TinyPreset.Config, Path.Combine(_tmp, name), seed, dtype, files, force).Directory;
    }

    static SmolVlmInputs Inputs(SmolVlmConfig config)
    {
        // One sample: text, a 1-tile image (4 <image> tokens), more text. The tile is a smooth ramp in [-1, 1].
        int m = config.Vision.ImageSize;
        var pixels = Enumerable.Range(0, 3 * m * m).Select(i => (i % 97) / 48f - 1f).ToArray();
        long img = config.ImageTokenId;
        return new SmolVlmInputs
        {
            InputIds = [1, 11, 4037, 4000, img, img, img, img, 4037, 300, 301, 302],
            Batch = 1,
            PixelValues = pixels,
            TilesPerSample = 1,
            TileSize = m,
        };
    }

    static float[] Logits(SmolVlmModel model, SmolVlmInputs inputs)
    {
        using var _ = GradMode.NoGrad();
        return model.Forward(inputs).ToFloatArray();
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("bf16")]
    public void Written_checkpoint_loads_and_equals_the_random_source(string dtypeName)
    {
        var dtype = dtypeName == "f32" ? DType.F32 : DType.BF16;
        string dir = WriteTiny("m", 5, dtype);
        var loaded = SmolVlmModel.Load(dir, CpuBackend.Device, out var unused);
        Assert.Empty(unused);
        Assert.Equal(TinyPreset.Config.Text.VocabSize, loaded.Config.Text.VocabSize);
        var direct = new SmolVlmModel(new RandomWeights(new RandomInit(TinyPreset.Config, 5, dtype), CpuBackend.Device), TinyPreset.Config);
        var inputs = Inputs(loaded.Config);
        var a = Logits(loaded, inputs);
        Assert.Equal(12 * 4128, a.Length);
        Assert.All(a, x => Assert.True(float.IsFinite(x)));
        Assert.Equal(a, Logits(direct, inputs));
    }

    [Fact]
    public void Forward_is_deterministic_per_seed()
    {
        var a = Logits(SmolVlmModel.Load(WriteTiny("a", 1, DType.F32), CpuBackend.Device, out _), Inputs(TinyPreset.Config));
        var b = Logits(SmolVlmModel.Load(WriteTiny("b", 1, DType.F32), CpuBackend.Device, out _), Inputs(TinyPreset.Config));
        var c = Logits(SmolVlmModel.Load(WriteTiny("c", 2, DType.F32), CpuBackend.Device, out _), Inputs(TinyPreset.Config));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_tmp, "a", "model.safetensors")), File.ReadAllBytes(Path.Combine(_tmp, "b", "model.safetensors")));
    }

    [Fact]
    public void Folder_holds_every_file_in_HF_names()
    {
        string dir = WriteTiny("m", 0, DType.F32);
        Assert.Equal(["chat_template.json", "config.json", "generation_config.json", "model.safetensors", "preprocessor_config.json",
                      "processor_config.json", "tokenizer.json", "tokenizer_config.json"],
                     Directory.GetFiles(dir).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray());
        using var ckpt = SafeTensorsCheckpoint.Open(dir);
        Assert.Equal(SmolVlmWeightNames.Enumerate(TinyPreset.Config).Select(e => e.Name).Order(StringComparer.Ordinal),
                     ckpt.Names.Order(StringComparer.Ordinal));
        Assert.Equal("pt", ckpt.Metadata["format"]);
        var config = SmolVlmConfig.Load(dir);
        Assert.Equal("float32", config.TorchDtype);
        Assert.Equal(TinyPreset.Config with { TorchDtype = "float32" }, config with { Architectures = TinyPreset.Config.Architectures });
        Assert.Contains("\"eos_token_id\": 4127", File.ReadAllText(Path.Combine(dir, "generation_config.json")));
        Assert.Contains("\"image_seq_len\": 4", File.ReadAllText(Path.Combine(dir, "processor_config.json")));
        Assert.DoesNotContain(Directory.GetDirectories(_tmp), d => Path.GetFileName(d).StartsWith('.'));   // no temp folder left
    }

    [Fact]
    public void Non_empty_folder_needs_force()
    {
        string dir = Path.Combine(_tmp, "taken");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "keep.txt"), "x");
        var e = Assert.Throws<InitOutputException>(() => WriteTiny("taken", 0, DType.F32));
        Assert.Contains("--force", e.Message);
        Assert.True(File.Exists(Path.Combine(dir, "keep.txt")));                          // untouched
        WriteTiny("taken", 0, DType.F32, force: true);
        Assert.False(File.Exists(Path.Combine(dir, "keep.txt")));
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.Single(Directory.GetDirectories(_tmp));                                     // the old copy is gone

        Directory.CreateDirectory(Path.Combine(_tmp, "empty"));
        WriteTiny("empty", 0, DType.F32);                                                  // an empty folder is fine
    }
}
