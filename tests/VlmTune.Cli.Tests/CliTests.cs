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
