namespace VlmTune.Cli.Tests;

[Collection("console")]
public class CliTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    [Fact]
    public void Selfcheck_trains_the_tiny_model()
    {
        var (code, output, _) = Run("selfcheck", "--steps", "120");
        Assert.Equal(0, code);
        Assert.Contains("selfcheck: ok", output);
    }

    [Fact]
    public void Unknown_verb_fails_without_a_stack_trace()
    {
        var (code, output, error) = Run("no-such-verb");
        Assert.NotEqual(0, code);
        Assert.DoesNotContain("   at ", output + error);
    }

    [Fact]
    public void Help_lists_the_verbs()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("selfcheck", output);
    }
}

[Collection("console")]
public class InspectLoraTests
{
    [Fact]
    public void Inspect_lora_reports_tower_filtering_and_counts_from_the_config_alone()
    {
        string tiny = Path.Combine(CliHarness.RepoRoot(), "tests/fixtures/model/tiny");
        var (code, output, _) = CliHarness.Run("inspect", "lora", tiny, "--targets", "q_proj,k_proj,v_proj,o_proj");
        Assert.Equal(0, code);
        Assert.Contains("PEFT name matching selects 14 modules; adapted: 8 (text 8)", output);
        Assert.Contains("warning: q_proj also matches 2 vision-tower modules; they are NOT adapted", output);
        var (bad, _, err) = CliHarness.Run("inspect", "lora", tiny, "--towers", "audio");
        Assert.Equal(1, bad);
        Assert.Contains("unknown tower 'audio'", err);
    }
}
