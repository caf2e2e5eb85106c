using VlmTune.Checkpoints.SmolVlm;

namespace VlmTune.Checkpoints.Tests.SmolVlm;

public class SmolVlmWeightNamesTests
{
    [Fact]
    public void SmolVlm256M_has_471_tensors_and_256_484_928_parameters()
    {
        var names = SmolVlmWeightNames.Enumerate(SmolVlmConfig.SmolVlm256M());
        Assert.Equal(471, names.Count);
        Assert.Equal(256_484_928, names.Sum(n => n.Shape.Aggregate(1L, (a, d) => a * d)));
        Assert.Equal(names.Count, names.Select(n => n.Name).Distinct().Count());
    }

    [Fact]
    public void SmolVlm256M_matches_the_spec_manifest()
    {
        var expected = File.ReadAllLines(TestPaths.Fixture("smolvlm-256m.weights.txt"))
            .Where(l => !l.StartsWith('#'))
            .ToArray();
        var actual = SmolVlmWeightNames.Enumerate(SmolVlmConfig.SmolVlm256M())
            .Select(n => $"{n.Name}\t{string.Join(",", n.Shape)}")
            .ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Tied_head_and_biases_change_the_list()
    {
        var tiny = SmolVlmConfig.Tiny(100);
        int baseCount = SmolVlmWeightNames.Enumerate(tiny).Count;
        Assert.Equal(3 + 2 * 16 + 2 + 1 + 1 + 2 * 9 + 1 + 1, baseCount);

        var tied = tiny with { Text = tiny.Text with { TieWordEmbeddings = true } };
        Assert.DoesNotContain(SmolVlmWeightNames.Enumerate(tied), n => n.Name == SmolVlmWeightNames.LmHeadWeight);
        Assert.Equal(baseCount - 1, SmolVlmWeightNames.Enumerate(tied).Count);

        var biased = tiny with { Text = tiny.Text with { AttentionBias = true, MlpBias = true } };
        var list = SmolVlmWeightNames.Enumerate(biased);
        Assert.Equal(baseCount + 2 * 7, list.Count);
        Assert.Contains(list, n => n.Name == "model.text_model.layers.1.self_attn.k_proj.bias" && n.Shape.SequenceEqual([32L]));
    }

    [Theory]
    [InlineData("model.text_model.model.layers.3.mlp.up_proj.weight", "model.text_model.layers.3.mlp.up_proj.weight")]
    [InlineData("model.text_model.model.embed_tokens.weight", "model.text_model.embed_tokens.weight")]
    [InlineData("model.text_model.model.norm.weight", "model.text_model.norm.weight")]
    [InlineData("model.text_model.lm_head.weight", "lm_head.weight")]
    [InlineData("model.text_model.layers.0.self_attn.q_proj.weight", "model.text_model.layers.0.self_attn.q_proj.weight")]
    [InlineData("lm_head.weight", "lm_head.weight")]
    [InlineData("model.vision_model.post_layernorm.bias", "model.vision_model.post_layernorm.bias")]
    [InlineData("model.connector.modality_projection.proj.weight", "model.connector.modality_projection.proj.weight")]
    public void NormalizeKey_maps_both_text_prefix_variants(string key, string expected)
    {
        Assert.Equal(expected, SmolVlmWeightNames.NormalizeKey(key));
        Assert.Equal(expected, SmolVlmWeightNames.NormalizeKey(SmolVlmWeightNames.NormalizeKey(key)));
    }

    [Fact]
    public void Every_canonical_name_survives_the_nested_variant()
    {
        foreach (var (name, _) in SmolVlmWeightNames.Enumerate(SmolVlmConfig.SmolVlm2B()))
        {
            string nested = name == "lm_head.weight" ? "model.text_model.lm_head.weight"
                : name.StartsWith("model.text_model.", StringComparison.Ordinal) ? "model.text_model.model." + name["model.text_model.".Length..]
                : name;
            Assert.Equal(name, SmolVlmWeightNames.NormalizeKey(nested));
            Assert.Equal(name, SmolVlmWeightNames.NormalizeKey(name));
        }
    }
}
