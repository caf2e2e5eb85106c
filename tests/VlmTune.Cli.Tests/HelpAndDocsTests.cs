using System.Text.RegularExpressions;

namespace VlmTune.Cli.Tests;

/// <summary>What a new user reads and types: flag and value spellings, error wording, README and recipe text.</summary>
[Collection("console")]
public class HelpAndDocsTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-help-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }

    static string Root => CliHarness.RepoRoot();
    static string Tiny => Path.Combine(Root, "tests/fixtures/model/tiny");

    [Fact]
    public void The_lora_tower_warning_names_the_recipe_key_and_the_flag_that_exist()
    {
        var (code, output, err) = CliHarness.Run("inspect", "lora", "--model", Tiny, "--targets", "all-linear", "--towers", "text");
        Assert.True(code == 0, err);
        string all = output + err;
        Assert.Contains("lora.towers: [text, vision, connector]", all);
        Assert.Contains("--towers text,vision,connector", all);
        Assert.DoesNotContain("--lora-towers", all);
        // and the key it names is a real recipe key
        Assert.Contains("lora.towers", CliHarness.Run("recipe", "keys").Out);
    }

    [Fact]
    public void Quantize_offers_no_double_quant()
    {
        string outDir = Path.Combine(_tmp, "nf4");
        var (code, output, err) = CliHarness.Run("quantize", "--model", Tiny, "--out", outDir, "--no-double-quant");
        Assert.True(code == 0, err + output);
        Assert.Contains("double quant False", output);
        Assert.Contains("\"bnb_4bit_use_double_quant\": false", File.ReadAllText(Path.Combine(outDir, "config.json")));
        (code, _, err) = CliHarness.Run("quantize", "--model", Tiny, "--out", outDir + "2", "--double-quant", "--no-double-quant");
        Assert.Equal(1, code);
        Assert.Contains("contradict", err);
    }

    [Fact]
    public void One_spelling_per_value_and_model_on_every_model_verb()
    {
        string keys = CliHarness.Run("recipe", "keys").Out;
        Assert.Contains("shrink-images", keys);
        Assert.DoesNotContain("shrink_images", keys);
        Assert.Equal(0, CliHarness.Run("inspect", "model", "--model", Tiny).Code);
        Assert.Equal(0, CliHarness.Run("inspect", "model", Tiny).Code);                    // the positional form stays
        Assert.Equal(0, CliHarness.Run("inspect", "lora", "--model", Tiny).Code);
        Assert.Equal(0, CliHarness.Run("tokenize", "--model", Tiny, "--text", "hi").Code);
        var (code, _, err) = CliHarness.Run("inspect", "model");
        Assert.Equal(1, code);
        Assert.Contains("--model", err);
    }

    [Fact]
    public void Recipe_validate_fails_when_the_model_or_the_data_does_not_exist()
    {
        string recipe = Path.Combine(Root, "recipes/tiny/sft.yaml");
        var (code, _, err) = CliHarness.Run("recipe", "validate", recipe, "--set", $"model.path={_tmp}/none", "--set", $"data.train={_tmp}/none.jsonl");
        Assert.Equal(1, code);
        Assert.Contains("model.path", err);
        Assert.Contains("data.train", err);
        (code, _, err) = CliHarness.Run("recipe", "validate", recipe, "--set", $"model.path={Tiny}",
            "--set", $"data.train={Path.Combine(Root, "tests/fixtures/data/sft.jsonl")}");
        Assert.True(code == 0, err);
    }

    [Fact]
    public void Tokenize_file_keeps_a_leading_bom_as_text()
    {
        Directory.CreateDirectory(_tmp);
        string file = Path.Combine(_tmp, "t.txt");
        File.WriteAllBytes(file, [0xEF, 0xBB, 0xBF, (byte)'h', (byte)'i']);
        var fromFile = CliHarness.Run("tokenize", "--model", Tiny, "--file", file, "--no-special");
        var fromText = CliHarness.Run("tokenize", "--model", Tiny, "--text", "\uFEFFhi", "--no-special");
        var plain = CliHarness.Run("tokenize", "--model", Tiny, "--text", "hi", "--no-special");
        Assert.Equal(0, fromFile.Code);
        Assert.Equal(fromText.Out, fromFile.Out);
        Assert.NotEqual(plain.Out, fromFile.Out);
    }

    [Fact]
    public void Readme_verb_table_is_one_table()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "README.md"));
        int header = Array.FindIndex(lines, l => l.StartsWith("| verb |", StringComparison.Ordinal));
        Assert.True(header >= 0);
        int end = header;
        while (end + 1 < lines.Length && lines[end + 1].StartsWith('|')) end++;
        // nothing after the table's last row continues it after a blank line
        int next = Array.FindIndex(lines, end + 1, l => l.Length > 0);
        Assert.False(lines[next].StartsWith("| `", StringComparison.Ordinal), $"README.md:{next + 1} continues the verb table after a blank line");
        foreach (var verb in new[] { "sft", "dpo", "merge", "quantize", "generate", "inspect model", "recipe keys" })
            Assert.Contains(lines[header..(end + 1)], l => l.StartsWith($"| `{verb}", StringComparison.Ordinal));
    }

    [Fact]
    public void Recipes_and_datasets_md_cite_no_file_missing_from_the_repository()
    {
        var files = Directory.GetFiles(Path.Combine(Root, "recipes"), "*.yaml", SearchOption.AllDirectories).Append(Path.Combine(Root, "datasets.md"));
        foreach (var f in files)
        {
            string text = File.ReadAllText(f);
            Assert.DoesNotMatch(new Regex(@"\bspec\s+(\w+\.md|§)"), text);
            foreach (Match m in Regex.Matches(text, @"\b[\w./-]+\.md\b"))
                if (!m.Value.Contains('/') || m.Value.StartsWith("recipes/", StringComparison.Ordinal) || m.Value.StartsWith("bench/", StringComparison.Ordinal))
                    Assert.True(File.Exists(Path.Combine(Root, m.Value)) || Directory.GetFiles(Root, Path.GetFileName(m.Value), SearchOption.AllDirectories).Length > 0,
                        $"{Path.GetRelativePath(Root, f)} cites {m.Value}, which is not in the repository");
        }
    }
}
