using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Models.SmolVlm.Init;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Tests.Init;

public class RandomInitTests
{
    static readonly SmolVlmConfig Tiny = SmolVlmConfig.Tiny(4128, 4038);
    const string Q = "model.text_model.layers.0.self_attn.q_proj.weight";

    [Theory]
    [InlineData("model.vision_model.encoder.layers.0.layer_norm1.weight", InitKind.Ones)]
    [InlineData("model.vision_model.post_layernorm.weight", InitKind.Ones)]
    [InlineData("model.text_model.layers.3.input_layernorm.weight", InitKind.Ones)]
    [InlineData("model.text_model.layers.3.post_attention_layernorm.weight", InitKind.Ones)]
    [InlineData("model.text_model.norm.weight", InitKind.Ones)]
    [InlineData("model.vision_model.encoder.layers.0.layer_norm1.bias", InitKind.Zeros)]
    [InlineData("model.vision_model.embeddings.patch_embedding.bias", InitKind.Zeros)]
    [InlineData("model.vision_model.embeddings.patch_embedding.weight", InitKind.Normal)]
    [InlineData("model.vision_model.embeddings.position_embedding.weight", InitKind.Normal)]
    [InlineData("model.connector.modality_projection.proj.weight", InitKind.Normal)]
    [InlineData("model.text_model.embed_tokens.weight", InitKind.Normal)]
    [InlineData("lm_head.weight", InitKind.Normal)]
    [InlineData(Q, InitKind.Normal)]
    public void Kind_follows_the_key(string key, InitKind kind) => Assert.Equal(kind, RandomInit.KindOf(key));

    [Fact]
    public void Values_depend_only_on_seed_key_and_index()
    {
        var a = new RandomInit(Tiny, 7, DType.F32);
        var full = new float[4096];
        a.FillF32(Q, 0, full);
        var part = new float[1000];
        a.FillF32(Q, 1234, part);                                  // any offset / chunk gives the same elements
        Assert.Equal(full.AsSpan(1234, 1000).ToArray(), part);
        var again = new float[4096];
        new RandomInit(Tiny, 7, DType.F32).FillF32(Q, 0, again);
        Assert.Equal(full, again);
        var other = new float[4096];
        new RandomInit(Tiny, 8, DType.F32).FillF32(Q, 0, other);
        Assert.NotEqual(full, other);
        Assert.NotEqual(RandomInit.KeySeed(7, Q), RandomInit.KeySeed(7, "model.text_model.layers.1.self_attn.q_proj.weight"));
    }

    [Fact]
    public void Normal_values_have_initializer_range_spread()
    {
        var init = new RandomInit(Tiny, 1, DType.F32);
        var v = new float[64 * 4128];
        init.FillF32("lm_head.weight", 0, v);
        double mean = v.Average(x => (double)x), std = Math.Sqrt(v.Average(x => (x - mean) * (x - mean)));
        Assert.InRange(mean, -0.001, 0.001);
        Assert.InRange(std, 0.0195, 0.0205);                       // text_config.initializer_range = 0.02
    }

    [Fact]
    public void WriteTo_streams_the_same_values_as_Fill_in_both_dtypes()
    {
        var f32 = new RandomInit(Tiny, 3, DType.F32);
        var bf16 = new RandomInit(Tiny, 3, DType.BF16);
        string key = "model.text_model.embed_tokens.weight";      // 264192 elements: several parallel blocks
        int n = 4128 * 64;
        var expected = new float[n];
        f32.FillF32(key, 0, expected);

        using var s32 = new MemoryStream();
        f32.WriteTo(key, s32);
        Assert.Equal(expected, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(s32.ToArray()).ToArray());

        using var s16 = new MemoryStream();
        bf16.WriteTo(key, s16);
        var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(s16.ToArray()).ToArray();
        Assert.Equal(n, bits.Length);
        for (int i = 0; i < n; i += 997) Assert.Equal(RandomInit.ToBf16(expected[i]), bits[i]);
    }

    [Fact]
    public void Bf16_rounding_is_nearest_even()
    {
        Assert.Equal(0x3F80, RandomInit.ToBf16(1f));
        Assert.Equal(0x3F80, RandomInit.ToBf16(BitConverter.UInt32BitsToSingle(0x3F808000)));   // tie → even
        Assert.Equal(0x3F82, RandomInit.ToBf16(BitConverter.UInt32BitsToSingle(0x3F818000)));   // tie → even (up)
        Assert.Equal(0x3F81, RandomInit.ToBf16(BitConverter.UInt32BitsToSingle(0x3F808001)));
    }

    [Fact]
    public void Unknown_keys_and_dtypes_are_refused()
    {
        var init = new RandomInit(Tiny, 0, DType.F32);
        var e = Assert.Throws<ModelLoadException>(() => init.ShapeOf("model.text_model.layers.9.mlp.up_proj.weight"));
        Assert.Contains("layers.9.mlp.up_proj.weight", e.Message);
        Assert.Throws<ArgumentException>(() => new RandomInit(Tiny, 0, DType.F16));
    }
}
