using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;

namespace VlmTune.Models.SmolVlm.Tests.Adapters;

/// <summary>PEFT matching semantics, the tower filter and its warnings, counts — on the tiny model and on 256M names.</summary>
public class LoraTargetsTests
{
    static readonly IReadOnlyList<LinearInfo> Tiny = LinearInfo.FromModel(AdapterTestSupport.Tiny());
    static readonly string[] Attention = ["q_proj", "k_proj", "v_proj", "o_proj"];
    static readonly string[] Seven = ["down_proj", "o_proj", "k_proj", "q_proj", "gate_proj", "up_proj", "v_proj"];

    static LoraTargetResolution Resolve(TargetModules t, IReadOnlySet<Tower>? towers = null, IReadOnlyList<LinearInfo>? linears = null,
        LoraOptions? lora = null, IReadOnlyList<int>? layers = null, params string[] save) =>
        LoraTargets.Resolve(linears ?? Tiny, new LoraSettings
        {
            Targets = t, Towers = towers ?? LoraSettings.TextOnly, Lora = lora ?? new LoraOptions(), LayersToTransform = layers, ModulesToSave = save,
        });

    [Fact]
    public void Name_list_matches_exact_paths_and_dot_suffixes_only()
    {
        Assert.True(LoraTargets.PeftMatches("model.text_model.layers.0.self_attn.q_proj", TargetModules.FromNames("q_proj")));
        Assert.True(LoraTargets.PeftMatches("model.text_model.layers.0.self_attn.q_proj", TargetModules.FromNames("self_attn.q_proj")));
        Assert.True(LoraTargets.PeftMatches("lm_head", TargetModules.FromNames("lm_head")));
        Assert.False(LoraTargets.PeftMatches("model.text_model.layers.0.self_attn.q_proj", TargetModules.FromNames("proj")));
        Assert.False(LoraTargets.PeftMatches("model.vision_model.encoder.layers.0.self_attn.out_proj", TargetModules.FromNames("o_proj")));
        Assert.True(LoraTargets.PeftMatches("model.connector.modality_projection.proj", TargetModules.FromNames("proj")));
    }

    [Fact]
    public void Regex_is_a_full_match()
    {
        var t = TargetModules.FromRegex(@".*text_model.*\.(q_proj|v_proj)");
        Assert.True(LoraTargets.PeftMatches("model.text_model.layers.1.self_attn.v_proj", t));
        Assert.False(LoraTargets.PeftMatches("model.vision_model.encoder.layers.1.self_attn.v_proj", t));
        Assert.False(LoraTargets.PeftMatches("model.text_model.layers.1.self_attn.q_proj.extra", t));
        Assert.False(LoraTargets.PeftMatches("model.text_model.layers.1.self_attn.q_proj", TargetModules.FromRegex("q_proj")));
        var r = Resolve(t);
        Assert.Equal(4, r.Modules.Count);
        Assert.Throws<LoraTargetException>(() => Resolve(TargetModules.FromRegex("(")));
    }

    [Fact]
    public void Attention_names_hit_the_vision_tower_too_and_the_default_text_filter_says_so()
    {
        var r = Resolve(TargetModules.FromNames(Attention));
        Assert.Equal(8, r.Modules.Count);                                    // 2 text layers × 4
        Assert.All(r.Modules, m => Assert.Equal(Tower.Text, m.Tower));
        Assert.Equal(14, r.PeftMatches.Count);                               // + 2 vision layers × q,k,v
        Assert.Equal(new Dictionary<Tower, int> { [Tower.Text] = 8 }, r.CountsByTower);
        Assert.Equal(
        [
            "q_proj also matches 2 vision-tower modules; they are NOT adapted (towers: text). To adapt them set lora.towers: [text, vision] in the recipe (or --set lora.towers=[text,vision]; inspect lora --towers text,vision)",
            "k_proj also matches 2 vision-tower modules; they are NOT adapted (towers: text). To adapt them set lora.towers: [text, vision] in the recipe (or --set lora.towers=[text,vision]; inspect lora --towers text,vision)",
            "v_proj also matches 2 vision-tower modules; they are NOT adapted (towers: text). To adapt them set lora.towers: [text, vision] in the recipe (or --set lora.towers=[text,vision]; inspect lora --towers text,vision)",
        ], r.Warnings);
        var both = Resolve(TargetModules.FromNames(Attention), new HashSet<Tower> { Tower.Text, Tower.Vision });
        Assert.Equal(14, both.Modules.Count);
        Assert.Empty(both.Warnings);
        Assert.Equal(r.PeftMatches, both.Modules);
    }

    [Fact]
    public void All_linear_is_every_linear_but_lm_head()
    {
        var r = Resolve(TargetModules.AllLinear, LoraSettings.AllTowers);
        Assert.Equal(Tiny.Count - 1, r.Modules.Count);
        Assert.DoesNotContain(r.Modules, m => m.Path == "lm_head");
        Assert.Equal(new Dictionary<Tower, int> { [Tower.Vision] = 12, [Tower.Connector] = 1, [Tower.Text] = 14 }, r.CountsByTower);
        var text = Resolve(TargetModules.AllLinear);
        Assert.Equal(14, text.Modules.Count);
        Assert.Equal(["target_modules all-linear also matches 12 vision-tower modules and 1 connector-tower module; they are NOT adapted (towers: text). To adapt them set lora.towers: [text, vision, connector] in the recipe (or --set lora.towers=[text,vision,connector]; inspect lora --towers text,vision,connector)"],
            text.Warnings);
    }

    [Fact]
    public void Trainable_count_is_r_in_plus_out_r_plus_out_for_dora()
    {
        // tiny text: q (64→64), k,v (64→32), o (64→64), gate/up (64→128), down (128→64); r = 8.
        long lora = 2 * 8 * ((64 + 64) + 2 * (64 + 32) + (64 + 64) + 2 * (64 + 128) + (128 + 64));
        long magnitudes = 2 * (64 + 32 + 32 + 64 + 128 + 128 + 64);
        Assert.Equal(lora, Resolve(TargetModules.FromNames(Seven)).TrainableParameters);
        Assert.Equal(lora + magnitudes, Resolve(TargetModules.FromNames(Seven), lora: new LoraOptions { UseDora = true }).TrainableParameters);
    }

    [Fact]
    public void Layers_to_transform_keeps_the_listed_layer_indices_for_name_lists()
    {
        var r = Resolve(TargetModules.FromNames(Attention), LoraSettings.AllTowers, layers: [1]);
        Assert.Equal(7, r.Modules.Count);                                     // text 4 + vision 3, layer 1 only
        Assert.All(r.Modules, m => Assert.Contains(".layers.1.", m.Path));
        var regex = Resolve(TargetModules.FromRegex(".*q_proj"), LoraSettings.AllTowers, layers: [1]);
        Assert.Equal(4, regex.Modules.Count);                                 // PEFT ignores layers_to_transform for regexes
    }

    [Fact]
    public void Modules_to_save_are_trained_in_full_and_never_adapted()
    {
        var r = Resolve(TargetModules.AllLinear, LoraSettings.AllTowers, save: "model.connector.modality_projection.proj");
        Assert.Equal(["model.connector.modality_projection.proj"], r.ModulesToSave.Select(m => m.Path));
        Assert.DoesNotContain(r.Modules, m => m.Tower == Tower.Connector);
        var plain = Resolve(TargetModules.AllLinear, LoraSettings.AllTowers);
        long projLora = 8L * (32 * 4) + 64L * 8;
        Assert.Equal(plain.TrainableParameters - projLora + 64L * 128, r.TrainableParameters);
        Assert.Throws<LoraTargetException>(() => Resolve(TargetModules.AllLinear, save: "no_such_module"));
    }

    [Fact]
    public void Matching_nothing_in_the_chosen_towers_is_an_error_that_says_where_it_did_match()
    {
        var e = Assert.Throws<LoraTargetException>(() => Resolve(TargetModules.FromNames("fc1")));
        Assert.Contains("matches no linear layer in towers text", e.Message);
        Assert.Contains("2 vision-tower modules", e.Message);
    }

    [Fact]
    public void SmolVlm_256M_attention_names_under_peft_semantics()
    {
        var linears = LinearInfo.FromConfig(SmolVlmConfig.SmolVlm256M());
        var peft = Resolve(TargetModules.FromNames(Attention), LoraSettings.AllTowers, linears, new LoraOptions { Rank = 8 });
        Assert.Equal(120 + 36, peft.Modules.Count);                           // 30 text layers × 4 + 12 vision layers × q,k,v
        Assert.Equal(new Dictionary<Tower, int> { [Tower.Text] = 120, [Tower.Vision] = 36 }, peft.CountsByTower);
        var text = Resolve(TargetModules.FromNames(Attention), null, linears, new LoraOptions { Rank = 8 });
        Assert.Equal(120, text.Modules.Count);
        Assert.Equal("q_proj also matches 12 vision-tower modules; they are NOT adapted (towers: text). To adapt them set lora.towers: [text, vision] in the recipe (or --set lora.towers=[text,vision]; inspect lora --towers text,vision)", text.Warnings[0]);
        // r = 8: text per layer q (576+576)·8 + k,v (576+192)·8 ×2 + o (576+576)·8 = 30,720; vision q,k,v 3·(768+768)·8 = 36,864.
        Assert.Equal(30 * 30_720L, text.TrainableParameters);
        Assert.Equal(30 * 30_720L + 12 * 36_864L, peft.TrainableParameters);
    }

    [Fact]
    public void SmolVlm_256M_seven_names_reproduce_the_spec_counts()
    {
        // spec smolvlm.md §6.1: 2,884,608 trainable with plain LoRA r=8, 3,067,776 with DoRA (vision q/k/v included).
        var linears = LinearInfo.FromConfig(SmolVlmConfig.SmolVlm256M());
        Assert.Equal(2_884_608L, Resolve(TargetModules.FromNames(Seven), LoraSettings.AllTowers, linears).TrainableParameters);
        Assert.Equal(3_067_776L, Resolve(TargetModules.FromNames(Seven), LoraSettings.AllTowers, linears, new LoraOptions { UseDora = true }).TrainableParameters);
    }

    [Fact]
    public void SmolVlm_2B_dora_count_matches_the_cookbook()
    {
        var linears = LinearInfo.FromConfig(SmolVlmConfig.SmolVlm2B());
        Assert.Equal(11_269_248L, Resolve(TargetModules.FromNames(Seven), LoraSettings.AllTowers, linears, new LoraOptions { UseDora = true }).TrainableParameters);
    }

    [Fact]
    public void Linear_info_from_config_matches_the_live_tiny_model()
    {
        var fromConfig = LinearInfo.FromConfig(Support.TinyModel.Config).OrderBy(l => l.Path, StringComparer.Ordinal);
        Assert.Equal(Tiny.OrderBy(l => l.Path, StringComparer.Ordinal), fromConfig);
    }
}
