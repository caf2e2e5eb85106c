using System.Text.Json;

namespace VlmTune.Tensors.Tests.Fixtures;

/// <summary>
/// Loads the PyTorch golden op cases: tests/fixtures/ops/ops.json (manifest) and tests/fixtures/ops/ops.safetensors
/// (tensors), both written by tests/reference/ops/make_op_fixtures.py. The files are read from the repository, not
/// copied to the build output: the repository root is the first folder above AppContext.BaseDirectory holding
/// VlmTune.sln. Every reference in the manifest is resolved and shape-checked on load.
/// </summary>
public sealed class OpFixtures
{
    public const int ExpectedFormat = 1;
    public const string Generator = "tests/reference/ops/make_op_fixtures.py";
    private const string RerunHint =
        "re-run: /usr/bin/python3 " + Generator + " (see tests/reference/ops/README.md)";

    private static readonly Lazy<OpFixtures> Default = new(() => Load(FindRepoRoot()));

    private readonly Dictionary<string, OpCase> _byName;

    private OpFixtures(string torchVersion, IReadOnlyList<OpCase> cases)
    {
        TorchVersion = torchVersion;
        Cases = cases;
        _byName = cases.ToDictionary(c => c.Name, StringComparer.Ordinal);
    }

    /// <summary>The PyTorch version that produced the fixtures.</summary>
    public string TorchVersion { get; }

    /// <summary>All cases, in manifest order.</summary>
    public IReadOnlyList<OpCase> Cases { get; }

    /// <summary>The fixtures of this repository (loaded once per test run).</summary>
    public static OpFixtures Load() => Default.Value;

    /// <summary>Loads the fixtures below <paramref name="repoRoot"/> (tests/fixtures/ops/).</summary>
    public static OpFixtures Load(string repoRoot)
    {
        string dir = Path.Combine(repoRoot, "tests", "fixtures", "ops");
        string jsonPath = Path.Combine(dir, "ops.json");
        string tensorsPath = Path.Combine(dir, "ops.safetensors");
        foreach (var path in new[] { jsonPath, tensorsPath })
        {
            if (!File.Exists(path))
            {
                throw new OpFixtureException($"{path} is missing; {RerunHint}");
            }
        }

        using var manifest = ParseManifest(jsonPath);
        var root = manifest.RootElement;
        var tensors = FixtureSafetensors.Read(tensorsPath);
        string torch = root.TryGetProperty("torch", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()!
            : throw new OpFixtureException($"{jsonPath}: missing string 'torch'; {RerunHint}");
        if (!root.TryGetProperty("cases", out var casesElement) || casesElement.ValueKind != JsonValueKind.Array)
        {
            throw new OpFixtureException($"{jsonPath}: missing array 'cases'; {RerunHint}");
        }

        var cases = new List<OpCase>();
        int index = 0;
        foreach (var c in casesElement.EnumerateArray())
        {
            try
            {
                cases.Add(ReadCase(jsonPath, index, c, tensors));
            }
            catch (InvalidOperationException e)
            {
                throw new OpFixtureException($"{jsonPath}: cases[{index}] is malformed: {e.Message}; {RerunHint}", e);
            }
            index++;
        }
        var duplicate = cases.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new OpFixtureException($"{jsonPath}: case name '{duplicate.Key}' appears {duplicate.Count()} times");
        }
        return new OpFixtures(torch, cases);
    }

    /// <summary>The case named <paramref name="name"/>.</summary>
    public OpCase Case(string name) =>
        _byName.TryGetValue(name, out var c)
            ? c
            : throw new OpFixtureException($"no op fixture case '{name}'; {RerunHint} if it should exist");

    /// <summary>All cases of one op ("linear", "sdpa", ...), in manifest order.</summary>
    public IReadOnlyList<OpCase> OfOp(string op) => Cases.Where(c => c.Op == op).ToList();

    /// <summary>Case names of one op, for [Theory, MemberData]: then call Load().Case(name).</summary>
    public static TheoryData<string> NamesOf(string op)
    {
        var data = new TheoryData<string>();
        foreach (var c in Load().OfOp(op))
        {
            data.Add(c.Name);
        }
        return data;
    }

    /// <summary>The first folder at or above AppContext.BaseDirectory that holds VlmTune.sln.</summary>
    public static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VlmTune.sln")))
            {
                return dir.FullName;
            }
        }
        throw new OpFixtureException($"no folder above {AppContext.BaseDirectory} holds VlmTune.sln");
    }

    private static JsonDocument ParseManifest(string jsonPath)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(jsonPath));
        }
        catch (JsonException e)
        {
            throw new OpFixtureException($"{jsonPath}: invalid JSON: {e.Message}; {RerunHint}", e);
        }
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("format", out var format)
            || format.ValueKind != JsonValueKind.Number)
        {
            doc.Dispose();
            throw new OpFixtureException(
                $"{jsonPath}: no numeric 'format' field (expected {ExpectedFormat}); {RerunHint}");
        }
        if (!format.TryGetInt32(out int version) || version != ExpectedFormat)
        {
            string found = format.GetRawText();
            doc.Dispose();
            throw new OpFixtureException(
                $"{jsonPath}: format {found} is not supported (expected {ExpectedFormat}); {RerunHint}");
        }
        return doc;
    }

    private static OpCase ReadCase(
        string jsonPath, int index, JsonElement c, IReadOnlyDictionary<string, FixtureTensor> tensors)
    {
        string name = c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
            ? n.GetString()!
            : throw new OpFixtureException($"{jsonPath}: cases[{index}] has no string 'name'");
        string where = $"{jsonPath}: case '{name}'";

        FixtureTensor Tensor(string tensorName, string field) =>
            tensors.TryGetValue(tensorName, out var tensor)
                ? tensor
                : throw new OpFixtureException(
                    $"{where}: {field} names tensor '{tensorName}', which ops.safetensors lacks; {RerunHint}");

        string String(JsonElement e, string field) =>
            e.ValueKind == JsonValueKind.String
                ? e.GetString()!
                : throw new OpFixtureException($"{where}: '{field}' must be a string, got {e.ValueKind}");

        JsonElement Property(string field) =>
            c.TryGetProperty(field, out var value)
                ? value
                : throw new OpFixtureException($"{where}: missing '{field}'");

        string op = String(Property("op"), "op");
        JsonElement attrs = Property("attrs");
        if (attrs.ValueKind != JsonValueKind.Object)
        {
            throw new OpFixtureException($"{where}: 'attrs' must be an object");
        }
        var inputs = Property("inputs").EnumerateArray().Select(e => Tensor(String(e, "inputs"), "inputs")).ToList();
        var output = Tensor(String(Property("output"), "output"), "output");
        var gradOutputElement = Property("grad_output");
        FixtureTensor? gradOutput = gradOutputElement.ValueKind == JsonValueKind.Null
            ? null
            : Tensor(String(gradOutputElement, "grad_output"), "grad_output");
        var grads = new Dictionary<string, FixtureTensor>(StringComparer.Ordinal);
        foreach (var g in Property("grads").EnumerateObject())
        {
            if (!inputs.Any(i => i.Name == g.Name))
            {
                throw new OpFixtureException($"{where}: grads key '{g.Name}' is not one of the inputs");
            }
            grads.Add(g.Name, Tensor(String(g.Value, $"grads.{g.Name}"), $"grads.{g.Name}"));
        }
        var outputs = attrs.TryGetProperty("outputs", out var list)
            ? list.EnumerateArray().Select(e => Tensor(String(e, "attrs.outputs"), "attrs.outputs")).ToList()
            : [];

        var result = new OpCase(name, op, attrs.Clone(), inputs, output, gradOutput, grads) { Outputs = outputs };
        CheckShapes(where, result);
        return result;
    }

    private static void CheckShapes(string where, OpCase c)
    {
        if (c.GradOutput is { } gy && !gy.Shape.SequenceEqual(c.Output.Shape))
        {
            throw new OpFixtureException(
                $"{where}: grad_output '{gy.Name}' has shape {gy.ShapeText}, output has {c.Output.ShapeText}");
        }
        if (c.GradOutput is null && c.Grads.Count > 0)
        {
            throw new OpFixtureException($"{where}: grads given without a grad_output");
        }
        foreach (var input in c.Inputs)
        {
            bool hasGrad = c.Grads.TryGetValue(input.Name, out var grad);
            if (grad is not null && !grad.Shape.SequenceEqual(input.Shape))
            {
                throw new OpFixtureException(
                    $"{where}: gradient '{grad.Name}' has shape {grad.ShapeText}, input '{input.Name}' has {input.ShapeText}");
            }
            if (hasGrad && !input.IsFloat)
            {
                throw new OpFixtureException($"{where}: integer input '{input.Name}' has a gradient");
            }
            if (!hasGrad && input.IsFloat && c.GradOutput is not null)
            {
                throw new OpFixtureException($"{where}: float input '{input.Name}' has no gradient");
            }
        }
    }
}
