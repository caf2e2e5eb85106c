using VlmTune.Checkpoints.Json;
using VlmTune.Checkpoints.SmolVlm;

namespace VlmTune.Checkpoints.Tests.SmolVlm;

public class SmolVlmConfigTests
{
    [Fact]
    public void Loads_a_256M_config_with_derived_values()
    {
        var c = SmolVlmConfig.Load(TestPaths.Fixture("config-smolvlm-256m.json"));

        Assert.Equal("idefics3", c.ModelType);
        Assert.Equal(["Idefics3ForConditionalGeneration"], c.Architectures);
        Assert.Equal(49190, c.ImageTokenId);
        Assert.Equal(4, c.ScaleFactor);
        Assert.Equal("bfloat16", c.TorchDtype);
        Assert.Equal("idefics3", c.Vision.ModelType);
        Assert.Equal((768, 3072, 12, 12, 512, 16), (c.Vision.HiddenSize, c.Vision.IntermediateSize, c.Vision.NumHiddenLayers, c.Vision.NumAttentionHeads, c.Vision.ImageSize, c.Vision.PatchSize));
        Assert.Equal("gelu_pytorch_tanh", c.Vision.HiddenAct); // absent → class default
        Assert.Equal(1e-6, c.Vision.LayerNormEps);
        Assert.Equal((576, 1536, 30, 9, 3, 64), (c.Text.HiddenSize, c.Text.IntermediateSize, c.Text.NumHiddenLayers, c.Text.NumAttentionHeads, c.Text.NumKeyValueHeads, c.Text.HeadDim));
        Assert.Equal(1e-5, c.Text.RmsNormEps);
        Assert.Equal(100000.0, c.Text.RopeTheta);
        Assert.Equal(49280, c.Text.VocabSize);
        Assert.Equal(8192, c.Text.MaxPositionEmbeddings);
        Assert.Equal((1, 2, 2), (c.Text.BosTokenId, c.Text.EosTokenId, c.Text.PadTokenId));
        Assert.False(c.LmHeadTied);

        // Derived
        Assert.Equal(64, c.Vision.HeadDim);
        Assert.Equal(32, c.Vision.PatchesPerSide);
        Assert.Equal(1024, c.Vision.PatchesPerTile);
        Assert.Equal(64, c.ImageSeqLen);
        Assert.Equal(12288, c.ConnectorInputDim);
        Assert.Equal(3, c.Text.KvGroups);
        Assert.Equal((576, 192), (c.Text.QueryDim, c.Text.KeyValueDim));
    }

    [Fact]
    public void Sparse_smolvlm2_config_gets_class_defaults()
    {
        var c = SmolVlmConfig.Load(TestPaths.Fixture("config-smolvlm2-minimal.json"));

        Assert.Equal("smolvlm", c.ModelType);
        Assert.Equal("smolvlm_vision", c.Vision.ModelType);
        Assert.Equal(12, c.Vision.NumHiddenLayers);     // Idefics3/SmolVLMVisionConfig default
        Assert.Equal(3072, c.Vision.IntermediateSize);  // default
        Assert.Equal(3, c.Vision.NumChannels);
        Assert.Equal("gelu_pytorch_tanh", c.Vision.HiddenAct);
        Assert.Equal(1e-6, c.Vision.LayerNormEps);
        Assert.Equal(1e-6, c.Text.RmsNormEps);          // text_config present but key absent → LlamaConfig default (errata §9)
        Assert.Equal(15, c.Text.NumKeyValueHeads);      // defaults to num_attention_heads
        Assert.Equal(64, c.Text.HeadDim);               // 960 / 15
        Assert.Equal(10000.0, c.Text.RopeTheta);
        Assert.Equal(2048, c.Text.MaxPositionEmbeddings);
        Assert.Null(c.Text.PadTokenId);
        Assert.Equal(128002, c.PadTokenId);
        Assert.Equal(64, c.ImageSeqLen);
        Assert.Null(c.TorchDtype);
    }

    [Fact]
    public void Missing_text_config_uses_the_composite_default()
    {
        var c = SmolVlmConfig.Load(TestPaths.Fixture("config-no-text-config.json"));

        Assert.Equal(1e-5, c.Text.RmsNormEps);           // default text config: LlamaConfig(rms_norm_eps=1e-5, ...)
        Assert.Equal(128002, c.Text.PadTokenId);
        Assert.Equal((32000, 4096, 11008, 32, 32, 32, 128), (c.Text.VocabSize, c.Text.HiddenSize, c.Text.IntermediateSize, c.Text.NumHiddenLayers, c.Text.NumAttentionHeads, c.Text.NumKeyValueHeads, c.Text.HeadDim));
        Assert.Equal(128257, c.ImageTokenId);
        Assert.Equal(2, c.ScaleFactor);
        Assert.Equal(1152, c.Vision.HiddenSize);
        Assert.Equal(16, c.Vision.NumAttentionHeads);
        Assert.Equal(72, c.Vision.HeadDim);
        Assert.Equal(1024 / 4, c.ImageSeqLen);
        Assert.False(c.LmHeadTied);
    }

    [Fact]
    public void Load_accepts_a_folder()
    {
        using var dir = new TempDir();
        File.Copy(TestPaths.Fixture("config-smolvlm-256m.json"), dir.File("config.json"));
        Assert.Equal(49190, SmolVlmConfig.Load(dir.Path).ImageTokenId);
        Assert.Throws<FileNotFoundException>(() => SmolVlmConfig.Load(dir.File("nope")));
    }

    public static TheoryData<string, string, string> WrongTypes => new()
    {
        { """{"model_type":"idefics3","text_config":{"hidden_size":"576"}}""", "$.text_config.hidden_size", "expected an integer, found string \"576\"" },
        { """{"model_type":"idefics3","text_config":{"hidden_size":576.0}}""", "$.text_config.hidden_size", "expected an integer" },
        { """{"model_type":"idefics3","text_config":{"num_hidden_layers":1e1}}""", "$.text_config.num_hidden_layers", "expected an integer" },
        { """{"model_type":"idefics3","text_config":{"vocab_size":99999999999}}""", "$.text_config.vocab_size", "expected an integer" },
        { """{"model_type":"idefics3","text_config":{"rms_norm_eps":"1e-5"}}""", "$.text_config.rms_norm_eps", "expected a number" },
        { """{"model_type":"idefics3","text_config":{"tie_word_embeddings":"false"}}""", "$.text_config.tie_word_embeddings", "expected true or false" },
        { """{"model_type":"idefics3","text_config":{"hidden_act":1}}""", "$.text_config.hidden_act", "expected a string" },
        { """{"model_type":"idefics3","text_config":{"eos_token_id":[2,3]}}""", "$.text_config.eos_token_id", "expected an integer" },
        { """{"model_type":"idefics3","vision_config":{"patch_size":null}}""", "$.vision_config.patch_size", "found null" },
        { """{"model_type":"idefics3","vision_config":[]}""", "$.vision_config", "expected an object" },
        { """{"model_type":"idefics3","scale_factor":true}""", "$.scale_factor", "expected an integer" },
        { """{"model_type":"idefics3","architectures":"Idefics3"}""", "$.architectures", "expected an array" },
        { """{"model_type":"idefics3","architectures":[1]}""", "$.architectures[0]", "expected a string" },
        { """{"model_type":"llava"}""", "$.model_type", "unsupported model_type" },
        { """{"image_token_id":5}""", "$.model_type", "missing" },
        { """{"model_type":"idefics3","text_config":{"model_type":"mistral"}}""", "$.text_config.model_type", "only \"llama\"" },
        { """{"model_type":"idefics3","text_config":{"rope_scaling":{"rope_type":"linear","factor":2.0}}}""", "$.text_config.rope_scaling.rope_type", "unsupported RoPE scaling" },
        { """{"model_type":"idefics3","text_config":{"rope_parameters":{"rope_type":"yarn"}}}""", "$.text_config.rope_parameters.rope_type", "unsupported RoPE scaling" },
        { """[1,2]""", "$", "JSON object" },
        { """{"model_type":"idefics3",}""", "$", "not well-formed JSON" },
        { """{"model_type":"idefics3","vision_config":{"image_size":512,"patch_size":16},"text_config":{"num_attention_heads":9,"num_key_value_heads":4}}""", "$.text_config.num_key_value_heads", "not divisible" },
        { """{"model_type":"idefics3","vision_config":{"image_size":16,"patch_size":32}}""", "$.vision_config.patch_size", "larger than image_size" },
        { """{"model_type":"idefics3"}""", "$.scale_factor", "not divisible by scale_factor" },
        { """{"model_type":"idefics3","vision_config":{"image_size":512,"patch_size":16},"text_config":{"num_attention_heads":0}}""", "$.text_config.num_attention_heads", "must be positive" },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public void Bad_values_name_file_and_json_path(string json, string jsonPath, string detail)
    {
        var ex = Assert.Throws<ConfigException>(() => SmolVlmConfig.Parse(json, "/models/x/config.json"));
        Assert.Equal("/models/x/config.json", ex.FilePath);
        Assert.Equal(jsonPath, ex.JsonPath);
        Assert.Contains(detail, ex.Detail);
        Assert.StartsWith($"/models/x/config.json: {jsonPath}: ", ex.Message);
    }

    [Fact]
    public void Transformers_5_rope_parameters_are_read()
    {
        var c = SmolVlmConfig.Parse("""{"model_type":"smolvlm","vision_config":{"image_size":512,"patch_size":16},"text_config":{"rope_parameters":{"rope_theta":100000.0,"rope_type":"default"}},"dtype":"bfloat16"}""");
        Assert.Equal(100000.0, c.Text.RopeTheta);
        Assert.Equal("bfloat16", c.TorchDtype);
    }

    [Fact]
    public void Presets_have_the_spec_values()
    {
        var s = SmolVlmConfig.SmolVlm256M();
        Assert.Equal((64, 3, 12288, 64), (s.ImageSeqLen, s.Text.KvGroups, s.ConnectorInputDim, s.Text.HeadDim));
        Assert.Equal(256_484_928, SmolVlmWeightNames.CountParameters(s));

        var m = SmolVlmConfig.SmolVlm500M();
        Assert.Equal((64, 3, 64, 960), (m.ImageSeqLen, m.Text.KvGroups, m.Text.HeadDim, m.Text.HiddenSize));
        Assert.Equal(507_482_304, SmolVlmWeightNames.CountParameters(m)); // spec §3.2

        var b = SmolVlmConfig.SmolVlm2B();
        Assert.Equal((81, 1, 10368, 72, 27), (b.ImageSeqLen, b.Text.KvGroups, b.ConnectorInputDim, b.Vision.HeadDim, b.Vision.PatchesPerSide));
        Assert.Equal(49153, b.ImageTokenId);
        Assert.Equal(273768.0, b.Text.RopeTheta);
        Assert.Equal(2_246_272_880, SmolVlmWeightNames.CountParameters(b)); // spec §3.2, confirmed by the cookbook's printed count
    }

    [Fact]
    public void Tiny_preset_is_small_and_consistent()
    {
        var t = SmolVlmConfig.Tiny(vocabSize: 300);
        Assert.Equal((2, 32, 8, 32, 4), (t.Vision.NumHiddenLayers, t.Vision.ImageSize, t.Vision.PatchSize, t.Vision.HiddenSize, t.Vision.PatchesPerSide));
        Assert.Equal((2, 64, 4, 2, 16, 2), (t.Text.NumHiddenLayers, t.Text.HiddenSize, t.Text.NumAttentionHeads, t.Text.NumKeyValueHeads, t.Text.HeadDim, t.Text.KvGroups));
        Assert.Equal(2, t.ScaleFactor);
        Assert.Equal(4, t.ImageSeqLen);
        Assert.Equal(300, t.Text.VocabSize);
        Assert.Equal(299, t.ImageTokenId);
        Assert.Equal(7, SmolVlmConfig.Tiny(300, imageTokenId: 7).ImageTokenId);
        Assert.Throws<ArgumentOutOfRangeException>(() => SmolVlmConfig.Tiny(300, imageTokenId: 300));
        Assert.True(SmolVlmWeightNames.CountParameters(t) < 200_000);
    }

    [Fact]
    public void ToJson_writes_what_python_json_dumps_writes()
    {
        string expected = File.ReadAllText(TestPaths.Fixture("preset-256m.expected.json"));
        Assert.Equal(expected, SmolVlmConfig.SmolVlm256M().ToJson());
    }

    [Fact]
    public void ToJson_round_trips_every_preset()
    {
        foreach (var config in new[] { SmolVlmConfig.SmolVlm256M(), SmolVlmConfig.SmolVlm500M(), SmolVlmConfig.SmolVlm2B(), SmolVlmConfig.Tiny(123),
                     SmolVlmConfig.Load(TestPaths.Fixture("config-smolvlm2-minimal.json")), SmolVlmConfig.Load(TestPaths.Fixture("config-no-text-config.json")) })
        {
            string json = config.ToJson();
            var back = SmolVlmConfig.Parse(json, "roundtrip");
            Assert.Equal(json, back.ToJson());
            Assert.Equal(config.Vision, back.Vision);
            Assert.Equal(config.Text, back.Text);
            Assert.Equal(config with { Architectures = back.Architectures }, back);
        }
    }

    [Theory]
    [InlineData(1e-5, "1e-05")]
    [InlineData(1e-6, "1e-06")]
    [InlineData(100000.0, "100000.0")]
    [InlineData(273768.0, "273768.0")]
    [InlineData(0.02, "0.02")]
    [InlineData(0.0, "0.0")]
    [InlineData(-0.5, "-0.5")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1.5e-7, "1.5e-07")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(123.456, "123.456")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(0.1 + 0.2, "0.30000000000000004")]
    public void Floats_are_formatted_like_python_repr(double value, string expected)
    {
        Assert.Equal(expected, PythonJson.FloatRepr(value));
    }
}
