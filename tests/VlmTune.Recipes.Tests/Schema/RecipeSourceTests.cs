using static VlmTune.Recipes.Tests.RecipeTestSupport;

namespace VlmTune.Recipes.Tests.Schema;

/// <summary>Structure errors in the file and in --set overrides, with exact locations.</summary>
public class RecipeSourceTests
{
    // Minimal has 6 lines; anything appended starts on line 7.
    static string With(string extra) => Minimal + "\n" + extra;

    [Fact]
    public void Unknown_key_in_a_section_names_file_line_column_and_a_suggestion() =>
        Assert.Equal("recipes/r.yaml:8:3: lora.rr: unknown key (did you mean lora.r?)", ErrorOf(With("lora:\n  rr: 2")));

    [Fact]
    public void Unknown_section_is_an_error() =>
        Assert.Equal("recipes/r.yaml:7:1: lorra: unknown key (did you mean lora?)", ErrorOf(With("lorra:\n  r: 1")));

    [Fact]
    public void Unknown_key_without_a_close_match_lists_the_section_keys() =>
        Assert.Equal("recipes/r.yaml:8:3: eval.zzzzzzzz: unknown key (keys in eval: every_steps, batch_size)",
            ErrorOf(With("eval:\n  zzzzzzzz: 1")));

    [Fact]
    public void Names_from_other_tools_are_recognised() =>
        Assert.Equal("recipes/r.yaml:8:3: train.learning_rate: unknown key (did you mean train.lr?)",
            ErrorOf(With("train:\n  learning_rate: 1e-4")));

    [Fact]
    public void A_key_in_the_wrong_section_points_to_the_right_one() =>
        Assert.Equal("recipes/r.yaml:8:3: train.targets: unknown key (did you mean lora.targets?)",
            ErrorOf(With("train:\n  targets: [q_proj]")));

    [Fact]
    public void Section_that_is_not_a_mapping() =>
        Assert.Equal("recipes/r.yaml:7:7: lora: expected a mapping of lora keys, got \"5\"", ErrorOf(With("lora: 5")));

    [Fact]
    public void Empty_section_means_defaults() =>
        Assert.Equal(new LoraSection(), Parse(With("lora:")).Lora);

    [Fact]
    public void Duplicate_key_is_an_error_at_the_second() =>
        Assert.Equal("recipes/r.yaml:8:1: invalid YAML: Duplicate key kind", ErrorOf(With("kind: sft\nkind: dpo")));

    [Fact]
    public void Syntax_error_has_a_location() =>
        Assert.StartsWith("recipes/r.yaml:9:9: invalid YAML: ", ErrorOf(With("lora:\n  r: 8\n   alpha: 3")));

    [Fact]
    public void Unclosed_flow_list_is_a_recipe_error() =>
        Assert.StartsWith("recipes/r.yaml: invalid YAML", ErrorOf(With("lora:\n  targets: [q_proj\n  r: 2")));

    [Fact]
    public void Empty_file_and_non_mapping_root()
    {
        Assert.Equal("recipes/r.yaml:1:1: the recipe is empty", ErrorOf("# only a comment\n"));
        Assert.StartsWith("recipes/r.yaml:1:1: expected a mapping of keys (kind, seed, model, ", ErrorOf("- a\n- b\n"));
    }

    [Fact]
    public void Two_documents_are_an_error() =>
        Assert.StartsWith("recipes/r.yaml:8:1: a recipe is one YAML document", ErrorOf(Minimal + "\n---\nkind: sft\n"));

    [Fact]
    public void Overrides_set_scalars_and_lists()
    {
        var r = Parse(Minimal, "lora.r=16", "lora.targets=[q_proj,v_proj]", "train.lr=2e-5", "lora.use_dora=true", "kind=dpo", "dpo.beta=0.3");
        Assert.Equal(16, r.Lora.R);
        Assert.Equal(LoraTargets.Of("q_proj", "v_proj"), r.Lora.Targets);
        Assert.Equal(2e-5, r.Train.Lr);
        Assert.True(r.Lora.UseDora);
        Assert.Equal(0.3, r.Dpo!.Beta);
    }

    [Fact]
    public void Override_wins_over_the_file_and_the_last_override_wins() =>
        Assert.Equal(32, Parse(With("lora:\n  r: 4"), "lora.r=16", "lora.r=32").Lora.R);

    [Fact]
    public void Override_all_linear_and_null()
    {
        Assert.Equal(LoraTargets.AllLinear, Parse(Minimal, "lora.targets=all-linear").Lora.Targets);
        Assert.Null(Parse("model: {path: m}\noutput: {dir: o}\ndata: {train: t, eval: e.jsonl}", "data.eval=null").Data.Eval);
        Assert.Null(Parse("model: {path: m}\noutput: {dir: o}\ndata: {train: t, eval: e.jsonl}", "data.eval=").Data.Eval);
    }

    [Fact]
    public void Override_relative_paths_resolve_against_the_working_directory()
    {
        var r = Parse(Minimal, "model.path=./models/base", "data.train=../t.jsonl");
        Assert.Equal("/work/cwd/models/base", r.Model.Path);
        Assert.Equal("/work/t.jsonl", r.Data.Train);
    }

    [Fact]
    public void Hub_ids_are_kept_as_written_unless_a_local_path_of_that_name_exists()
    {
        var r = Parse(Minimal, "model.path=HuggingFaceTB/SmolVLM-256M-Instruct@main", "data.train=HuggingFaceM4/ChartQA", "data.eval=org/set");
        Assert.Equal("HuggingFaceTB/SmolVLM-256M-Instruct@main", r.Model.Path);
        Assert.Equal("HuggingFaceM4/ChartQA", r.Data.Train);
        Assert.Equal("org/set", r.Data.Eval);
        Assert.Equal("/work/cwd/runs/x.jsonl", Parse(Minimal, "data.train=runs/x.jsonl").Data.Train);   // a file name, not an id
    }

    [Theory]
    [InlineData("lora.rr=3", "--set lora.rr: unknown key (did you mean lora.r?)")]
    [InlineData("trian.lr=3", "--set trian.lr: unknown key (did you mean train.lr?)")]
    [InlineData("learning_rate=3", "--set learning_rate: unknown key (did you mean train.lr?)")]
    [InlineData("lora=3", "--set lora: lora is a section; set one of its keys, e.g. --set lora.r=...")]
    [InlineData("lora.r", "--set lora.r: expected key=value, e.g. --set lora.r=16")]
    [InlineData("=3", "--set : the key before '=' is empty")]
    [InlineData("lora.r=eight", "--set lora.r: expected an integer, got \"eight\"")]
    [InlineData("lora.r=0", "--set lora.r: must be >= 1, got 0")]
    [InlineData("lora.targets=q_proj", "--set lora.targets: expected a list of module names or \"all-linear\", got \"q_proj\" (write [q_proj] for one name)")]
    [InlineData("lora.towers=[text, audio]", "--set lora.towers: expected one of text, vision, connector, got \"audio\"")]
    public void Bad_overrides_name_the_key(string o, string message) => Assert.Equal(message, ErrorOf(Minimal, o));

    [Fact]
    public void Unreadable_override_value_suggests_quoting() =>
        Assert.StartsWith("--set output.dir: cannot read \"\\\"x\" as a YAML value (", ErrorOf(Minimal, "output.dir=\"x"));
}
