using System.Text;
using System.Text.Json.Nodes;

namespace VlmTune.Quantization.Tests;

/// <summary>The bitsandbytes safetensors key layout, both directions, and the config.json block.</summary>
public class Bnb4BitFormatTests
{
    private const string Name = "model.text_model.layers.0.self_attn.q_proj.weight";

    [Theory]
    [InlineData(QuantType.Nf4, true)]
    [InlineData(QuantType.Nf4, false)]
    [InlineData(QuantType.Fp4, true)]
    public void Round_trip_through_the_key_layout(QuantType type, bool doubleQuant)
    {
        float[] x = TestData.Normal(96 * 70, seed: 5, sigma: 0.02f);
        var q = Quantizer4Bit.Quantize(x, 64, type, doubleQuant, [96, 70]);
        var tensors = Bnb4BitFormat.ToTensors(Name, q, "bfloat16").ToDictionary(t => t.Key);

        string suffix = type == QuantType.Nf4 ? "nf4" : "fp4";
        string[] expectedKeys = doubleQuant
            ? [Name, Name + ".absmax", Name + ".quant_map", Name + ".nested_absmax", Name + ".nested_quant_map", Name + ".quant_state.bitsandbytes__" + suffix]
            : [Name, Name + ".absmax", Name + ".quant_map", Name + ".quant_state.bitsandbytes__" + suffix];
        Assert.Equal(expectedKeys, Bnb4BitFormat.ToTensors(Name, q, "bfloat16").Select(t => t.Key));
        Assert.Equal([96L * 70 / 2, 1], tensors[Name].Shape);
        Assert.Equal("U8", tensors[Name].DType);
        Assert.Equal(doubleQuant ? "U8" : "F32", tensors[Name + ".absmax"].DType);
        Assert.Equal([16L], tensors[Name + ".quant_map"].Shape);
        string json = Encoding.UTF8.GetString(tensors[Name + ".quant_state.bitsandbytes__" + suffix].Data);
        Assert.StartsWith($"{{\"quant_type\": \"{suffix}\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [96, 70]", json);

        var back = Bnb4BitFormat.FromTensors(Name, key => tensors.TryGetValue(key, out var t) ? (t.DType, t.Shape, t.Data) : null);
        Quantizer4BitParityTests.AssertSame(q, back);
        Assert.Equal("bfloat16", back.Dtype);
        Assert.Equal(type, back.QuantType);
        var a = new float[x.Length];
        var b = new float[x.Length];
        Quantizer4Bit.Dequantize(q, a);
        Quantizer4Bit.Dequantize(back, b);
        Quantizer4BitFixtureTests.AssertBits(a, b);
    }

    [Theory]
    [InlineData(QuantType.Nf4)]
    [InlineData(QuantType.Fp4)]
    public void A_quant_map_whose_zero_is_stored_as_minus_zero_loads(QuantType type)
    {
        // Numerically equal to the table (some writers store the zero code as −0); a different value is still refused.
        var q = Quantizer4Bit.Quantize(TestData.Normal(640, seed: 3), 64, type, false, [10, 64]);
        var tensors = Bnb4BitFormat.ToTensors(Name, q, "float32").ToDictionary(t => t.Key, t => (t.DType, t.Shape, t.Data));
        var map = QuantTables.For(type).ToArray();
        int zero = Array.IndexOf(map, 0f);
        Assert.True(zero >= 0);
        map[zero] = -0f;
        tensors[Name + ".quant_map"] = ("F32", [16], System.Runtime.InteropServices.MemoryMarshal.AsBytes(map.AsSpan()).ToArray());
        var back = Bnb4BitFormat.FromTensors(Name, k => tensors.TryGetValue(k, out var t) ? t : null);
        Quantizer4BitParityTests.AssertSame(q, back);

        map[zero] = 1e-3f;
        tensors[Name + ".quant_map"] = ("F32", [16], System.Runtime.InteropServices.MemoryMarshal.AsBytes(map.AsSpan()).ToArray());
        var e = Assert.Throws<QuantizationFormatException>(() => Bnb4BitFormat.FromTensors(Name, k => tensors.TryGetValue(k, out var t) ? t : null));
        Assert.Contains(".quant_map: entry", e.Message);
    }

    [Fact]
    public void Errors_name_the_key()
    {
        var q = Quantizer4Bit.Quantize(TestData.Normal(640, seed: 2), 64, QuantType.Nf4, true, [10, 64]);
        var tensors = Bnb4BitFormat.ToTensors(Name, q, "float32").ToDictionary(t => t.Key, t => (t.DType, t.Shape, t.Data));

        var missing = new Dictionary<string, (string, long[], byte[])>(tensors);
        missing.Remove(Name + ".nested_absmax");
        var e = Assert.Throws<QuantizationFormatException>(() => Bnb4BitFormat.FromTensors(Name, k => missing.TryGetValue(k, out var t) ? t : null));
        Assert.Contains(Name + ".nested_absmax", e.Message);

        var truncated = new Dictionary<string, (string, long[], byte[])>(tensors) { [Name] = ("U8", [10, 1], new byte[10]) };
        e = Assert.Throws<QuantizationFormatException>(() => Bnb4BitFormat.FromTensors(Name, k => truncated.TryGetValue(k, out var t) ? t : null));
        Assert.Contains("packed has 10 bytes", e.Message);

        var badJson = new Dictionary<string, (string, long[], byte[])>(tensors)
        {
            [Name + ".quant_state.bitsandbytes__nf4"] = ("U8", [3], Encoding.UTF8.GetBytes("{x:")),
        };
        e = Assert.Throws<QuantizationFormatException>(() => Bnb4BitFormat.FromTensors(Name, k => badJson.TryGetValue(k, out var t) ? t : null));
        Assert.Contains("quant_state.bitsandbytes__nf4", e.Message);

        e = Assert.Throws<QuantizationFormatException>(() => Bnb4BitFormat.FromTensors(Name, _ => null));
        Assert.Contains("not a bitsandbytes 4-bit weight", e.Message);
    }

    [Theory]
    [InlineData(1e-05, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(123.0, "123.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(-0.012345678, "-0.012345678")]
    [InlineData(1.5e-05, "1.5e-05")]
    [InlineData(2.5e+20, "2.5e+20")]
    [InlineData(0.0, "0.0")]
    [InlineData(3.4028234663852886e+38, "3.4028234663852886e+38")]
    [InlineData(0.1292976438999176, "0.1292976438999176")]
    public void Floats_format_like_python_repr(double value, string expected)
        => Assert.Equal(expected, PythonFloat.Repr(value));

    [Fact]
    public void Quantization_config_block_matches_transformers_keys()
    {
        var config = new BnbQuantizationConfig { SkipModules = ["lm_head"] };
        JsonObject o = config.ToJsonObject();
        Assert.Equal(
            ["_load_in_4bit", "_load_in_8bit", "bnb_4bit_compute_dtype", "bnb_4bit_quant_storage", "bnb_4bit_quant_type",
             "bnb_4bit_use_double_quant", "llm_int8_enable_fp32_cpu_offload", "llm_int8_has_fp16_weight", "llm_int8_skip_modules",
             "llm_int8_threshold", "load_in_4bit", "load_in_8bit", "quant_method"],
            o.Select(p => p.Key));
        Assert.Equal("nf4", (string?)o["bnb_4bit_quant_type"]);
        Assert.Equal("bitsandbytes", (string?)o["quant_method"]);
        Assert.Equal(config, BnbQuantizationConfig.FromJson(JsonNode.Parse(config.ToJson())) with { SkipModules = config.SkipModules });

        var defaults = BnbQuantizationConfig.FromJson(JsonNode.Parse("""{"quant_method": "bitsandbytes", "load_in_4bit": true}"""));
        Assert.Equal(QuantType.Fp4, defaults.QuantType);   // transformers' default, the trap the spec warns about
        Assert.False(defaults.DoubleQuant);
        var e = Assert.Throws<QuantizationFormatException>(() => BnbQuantizationConfig.FromJson(JsonNode.Parse("""{"quant_method": "gptq"}""")));
        Assert.Contains("gptq", e.Message);
    }
}
