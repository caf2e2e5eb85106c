using VlmTune.Checkpoints.SafeTensors;

namespace VlmTune.Cli.Tests;

/// <summary>End-to-end tests of `tokenize`, `preprocess` and `inspect dataset` on the tiny fixtures (tests/fixtures/data).</summary>
[Collection("console")]
public sealed class DataCommandsTests : IDisposable
{
    static readonly string Fixtures = FindFixtures();
    static string Model => Path.Combine(Fixtures, "tiny-model");
    readonly string _tmp = Path.Combine(Path.GetTempPath(), "vlmtune-cli-" + Guid.NewGuid().ToString("N"));

    public DataCommandsTests() => Directory.CreateDirectory(_tmp);

    public void Dispose()
    {
        try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { }
    }

    static string FindFixtures() => Path.Combine(CliHarness.RepoRoot(), "tests", "fixtures", "data");

    static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    [Fact]
    public void Tokenize_round_trips()
    {
        var (code, output, _) = Run("tokenize", "--tokenizer", Model, "--text", "User: hi<image>");
        Assert.Equal(0, code);
        Assert.EndsWith(" 4038", output.Trim());
        var (code2, json, _) = Run("tokenize", "--tokenizer", Path.Combine(Model, "tokenizer.json"), "--text", "User: hi<image>", "--json");
        Assert.Equal(0, code2);
        Assert.Equal("[" + string.Join(", ", output.Trim().Split(' ')) + "]", json.Trim());
        var (code3, text, _) = Run("tokenize", "--tokenizer", Model, "--text", json.Trim(), "--decode");
        Assert.Equal(0, code3);
        Assert.Equal("User: hi<image>", text.TrimEnd('\n', '\r'));
        var (_, skipped, _) = Run("tokenize", "--tokenizer", Model, "--text", output.Trim(), "--decode", "--no-special");
        Assert.Equal("User: hi", skipped.TrimEnd('\n', '\r'));
    }

    [Fact]
    public void Tokenize_from_file_and_bad_ids()
    {
        string file = Path.Combine(_tmp, "in.txt");
        File.WriteAllText(file, "1 2 x");
        var (code, _, err) = Run("tokenize", "--tokenizer", Model, "--file", file, "--decode");
        Assert.Equal(1, code);
        Assert.Contains($"error: {file}: item 3 \"x\" is not a token id", err);
        (code, _, err) = Run("tokenize", "--tokenizer", Model);
        Assert.Equal(1, code);
        Assert.Contains("exactly one of --text and --file", err);
    }

    [Fact]
    public void Preprocess_writes_safetensors_and_tiles()
    {
        string output = Path.Combine(_tmp, "px.safetensors"), tiles = Path.Combine(_tmp, "tiles");
        var (code, stdout, err) = Run("preprocess", "--model", Model, "--image", Path.Combine(Fixtures, "images", "wide.png"),
            "--image", Path.Combine(Fixtures, "images", "tall.png"), "--out", output, "--save-tiles", tiles);
        Assert.True(code == 0, err);
        Assert.Contains("2x2 tiles + global", stdout);
        using var file = SafeTensorsFile.Open(output);
        Assert.Equal([8L, 3, 32, 32], file.TryGetInfo("pixel_values")!.Shape);
        Assert.Equal("F32", file.TryGetInfo("pixel_values")!.DTypeName);
        Assert.Equal([2L], file.TryGetInfo("rows")!.Shape);
        Assert.Equal("I64", file.TryGetInfo("cols")!.DTypeName);
        Assert.Equal([8L], file.TryGetInfo("tile_mask")!.Shape);
        Assert.Equal(8, Directory.GetFiles(tiles, "*.png").Length);
        Assert.True(File.Exists(Path.Combine(tiles, "image1_r2_c1.png")));
    }

    [Fact]
    public void Preprocess_reports_a_corrupt_image()
    {
        string bad = Path.Combine(_tmp, "bad.png");
        File.WriteAllBytes(bad, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]);
        var (code, _, err) = Run("preprocess", "--model", Model, "--image", bad, "--out", Path.Combine(_tmp, "o.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("bad.png", err);
        Assert.False(File.Exists(Path.Combine(_tmp, "o.safetensors")));
    }

    [Fact]
    public void Preprocess_follows_non_rgb_images_and_names_a_refused_image()
    {
        string nonRgb = Path.Combine(CliHarness.RepoRoot(), "tests", "fixtures", "processor", "nonrgb");
        string rgba = Path.Combine(nonRgb, "rgba.png"), la = Path.Combine(nonRgb, "la.png");
        string t5 = Path.Combine(_tmp, "t5.safetensors"), t4 = Path.Combine(_tmp, "t4.safetensors");
        Assert.Equal(0, Run("preprocess", "--model", Model, "--image", rgba, "--out", t5).Code);
        var (code, _, err) = Run("preprocess", "--model", Model, "--image", rgba, "--out", t4, "--non-rgb-images", "transformers-4");
        Assert.True(code == 0, err);
        using (var a = SafeTensorsFile.Open(t5))
        using (var b = SafeTensorsFile.Open(t4))
            Assert.False(a.GetBytes("pixel_values").SequenceEqual(b.GetBytes("pixel_values")));   // alpha dropped vs white per tile

        string refused = Path.Combine(_tmp, "la.safetensors");
        (code, _, err) = Run("preprocess", "--model", Model, "--image", la, "--out", refused, "--non-rgb-images", "transformers-4");
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {la}: a gray + alpha (LA) image cannot be processed as transformers 4.x does", err.Trim());
        Assert.False(File.Exists(refused));
        (code, _, err) = Run("preprocess", "--model", Model, "--image", la, "--out", refused, "--non-rgb-images", "4");
        Assert.Equal(1, code);
        Assert.Contains("--non-rgb-images: expected transformers-5 or transformers-4, got '4'", err);
    }

    [Fact]
    public void Inspect_dataset_prints_budget_and_audit()
    {
        var (code, stdout, err) = Run("inspect", "dataset", "--model", Model, "--data", Path.Combine(Fixtures, "sft.jsonl"));
        Assert.True(code == 0, err);
        Assert.Contains("4 records, 4 valid, 0 bad", stdout);
        Assert.Contains("token budget", stdout);
        Assert.Contains("supervised image tokens 0 (must be 0)", stdout);
        Assert.DoesNotContain("WARNING", stdout);

        (code, stdout, err) = Run("inspect", "dataset", "--model", Model, "--data", Path.Combine(Fixtures, "dpo.jsonl"), "--kind", "dpo");
        Assert.True(code == 0, err);
        Assert.Contains("2 records, 2 valid", stdout);
    }

    [Fact]
    public void Inspect_dataset_detects_a_dpo_file_and_takes_max_length_from_a_recipe()
    {
        // No --kind: the preference records are recognised (they used to fail every record as SFT).
        var (code, stdout, err) = Run("inspect", "dataset", "--model", Model, "--data", Path.Combine(Fixtures, "dpo.jsonl"));
        Assert.True(code == 0, err);
        Assert.Contains("(dpo, detected from the records): 2 records, 2 valid", stdout);

        // --recipe: the recipe's model, data and max length (not the tokenizer's default).
        string recipe = Path.Combine(_tmp, "r.yaml");
        File.WriteAllText(recipe, $"kind: sft\nmodel: {{path: {Model}}}\ndata: {{train: {Path.Combine(Fixtures, "sft.jsonl")}, max_length: 60, overflow: drop}}\noutput: {{dir: {_tmp}/run}}\n");
        (code, stdout, err) = Run("inspect", "dataset", "--recipe", recipe);
        Assert.True(code == 0, err);
        Assert.Contains("max length 60 (recipe", stdout);
        Assert.Contains("(sft, the recipe's kind)", stdout);
        Assert.DoesNotContain(" 0 dropped", stdout);
    }

    [Fact]
    public void Inspect_dataset_fails_on_bad_records_naming_file_line_and_field()
    {
        string data = Path.Combine(_tmp, "train.jsonl");
        File.WriteAllLines(data, [
            """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}""",
            """{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": [{"type": "video"}]}]}""",
        ]);
        var (code, _, err) = Run("inspect", "dataset", "--model", Model, "--data", data);
        Assert.Equal(1, code);
        Assert.Contains($"{data}:2: messages[1].content[0].type: unknown content type \"video\"", err);
        Assert.DoesNotContain("   at ", err);

        var (skipCode, stdout, _) = Run("inspect", "dataset", "--model", Model, "--data", data, "--on-bad-record", "skip");
        Assert.Equal(0, skipCode);
        Assert.Contains("skipped 1 bad record(s)", stdout);
    }

    [Fact]
    public void Inspect_dataset_overflow_policies()
    {
        string data = Path.Combine(Fixtures, "sft.jsonl");
        var (code, _, err) = Run("inspect", "dataset", "--model", Model, "--data", data, "--max-length", "60");
        Assert.Equal(1, code);
        Assert.Contains("more than the max length 60", err);
        var (dropCode, stdout, _) = Run("inspect", "dataset", "--model", Model, "--data", data, "--max-length", "60", "--overflow", "drop");
        Assert.Equal(0, dropCode);
        Assert.Matches(@"[1-9] dropped", stdout);
        var (shrinkCode, shrunk, _) = Run("inspect", "dataset", "--model", Model, "--data", data, "--max-length", "70", "--overflow", "shrink-images");
        Assert.Matches(@"[1-9] shrunk to global-only", shrunk);
        Assert.Equal(0, shrinkCode);
    }

    [Fact]
    public void Inspect_is_a_parent_command()
    {
        var (code, stdout, _) = Run("inspect", "--help");
        Assert.Equal(0, code);
        Assert.Contains("dataset", stdout);
    }
}
