using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Quantization;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Tests.Adapters;

/// <summary>vlmtune_base.json: round trip, clear errors, and a weights hash that follows the tensors, not the files.</summary>
public class BasePreparationTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-baseprep-{Guid.NewGuid():N}");

    public BasePreparationTests() => Directory.CreateDirectory(_tmp);

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }

    [Fact]
    public void Round_trips_every_field()
    {
        var prep = new BasePreparation
        {
            Quantization = new QuantizeSettings { Type = QuantType.Fp4, Blocksize = 256, DoubleQuant = false, Skip = ["lm_head", "connector"] },
            ComputeDType = DType.BF16, BaseWeightsSha256 = "abc123", BaseModel = "/models/base",
        };
        prep.Save(_tmp);
        var back = BasePreparation.TryLoad(_tmp)!;
        Assert.Equal(QuantType.Fp4, back.Quantization!.Type);
        Assert.Equal(256, back.Quantization.Blocksize);
        Assert.False(back.Quantization.DoubleQuant);
        Assert.Equal(["lm_head", "connector"], back.Quantization.Skip);
        Assert.Equal(DType.BF16, back.ComputeDType);
        Assert.Equal("abc123", back.BaseWeightsSha256);
        Assert.Equal("fp4, blocksize 256, no double quant, compute bf16", back.Describe());

        new BasePreparation { BaseWeightsSha256 = "x" }.Save(_tmp);   // plain LoRA: no quantisation
        Assert.Null(BasePreparation.TryLoad(_tmp)!.Quantization);
        Assert.Null(BasePreparation.TryLoad(Path.Combine(_tmp, "none")));
    }

    [Theory]
    [InlineData("{\"format\": \"other\"}", "format")]
    [InlineData("{\"format\": \"vlmtune-base-preparation\", \"version\": 9}", "version 9")]
    [InlineData("{\"format\": \"vlmtune-base-preparation\", \"version\": 1, \"quantization\": {\"quant_type\": \"nf4\", \"blocksize\": 100, \"double_quant\": true}, \"compute_dtype\": \"float32\", \"base_weights_sha256\": \"x\"}", "blocksize 100")]
    [InlineData("{\"format\": \"vlmtune-base-preparation\", \"version\": 1, \"compute_dtype\": \"float32\"}", "base_weights_sha256")]
    [InlineData("{not json", "vlmtune_base.json")]
    public void A_malformed_file_is_an_error_naming_it_and_the_field(string json, string expected)
    {
        File.WriteAllText(Path.Combine(_tmp, BasePreparation.FileName), json);
        var e = Assert.Throws<InvalidDataException>(() => BasePreparation.TryLoad(_tmp));
        Assert.Contains(BasePreparation.FileName, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_weights_hash_ignores_sharding_and_metadata_but_not_a_changed_value()
    {
        string a = Path.Combine(_tmp, "a"), b = Path.Combine(_tmp, "b"), c = Path.Combine(_tmp, "c");
        Write(a, new() { ["format"] = "pt" }, 1f);
        Write(b, new() { ["format"] = "pt", ["note"] = "re-saved" }, 1f);
        Write(c, new() { ["format"] = "pt" }, 1.5f);
        Assert.Equal(BasePreparation.HashWeights(a), BasePreparation.HashWeights(b));
        Assert.NotEqual(BasePreparation.HashWeights(a), BasePreparation.HashWeights(c));
        Assert.Matches("^[0-9a-f]{64}$", BasePreparation.HashWeights(a));
    }

    static void Write(string dir, Dictionary<string, string> metadata, float value)
    {
        var w = new SafeTensorsWriter { Metadata = metadata };
        w.Add("model.text_model.norm.weight", DType.F32, [2], BitConverter.GetBytes(value).Concat(BitConverter.GetBytes(2f)).ToArray());
        w.Add("lm_head.weight", DType.F32, [1], BitConverter.GetBytes(3f));
        w.Save(dir);
    }
}
