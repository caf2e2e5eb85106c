using System.Text.Json;

namespace VlmTune.Tensors.Tests.Fixtures;

/// <summary>
/// Checks the committed op fixtures (tests/fixtures/ops, from tests/reference/ops/make_op_fixtures.py) and their
/// loader: every case resolves, shapes agree, the bytes decode to the values the formulas predict.
/// </summary>
public sealed class OpFixturesTests
{
    private static readonly string[] BriefOps =
    [
        "linear", "matmul", "add", "mul", "scale", "embedding", "transpose", "permute", "concat", "slice", "gather",
        "layer_norm", "rms_norm", "gelu_tanh", "silu", "swiglu", "softmax", "sdpa", "rope", "cross_entropy",
        "token_logprobs", "conv_patchify", "pixel_shuffle", "adamw", "clip_grad_norm", "log_softmax", "sum", "mean",
    ];

    public static TheoryData<string> Ops => new(BriefOps);

    [Fact]
    public void Manifest_format_is_1_and_names_its_generator()
    {
        string path = Path.Combine(OpFixtures.FindRepoRoot(), "tests", "fixtures", "ops", "ops.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(1, doc.RootElement.GetProperty("format").GetInt32());
        Assert.Equal(OpFixtures.Generator, doc.RootElement.GetProperty("generator").GetString());
        Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("torch").GetString()));
    }

    [Fact]
    public void Every_case_loads_with_consistent_shapes()
    {
        var fixtures = OpFixtures.Load();
        Assert.NotEmpty(fixtures.Cases);
        foreach (var c in fixtures.Cases)
        {
            foreach (var t in c.Inputs.Append(c.Output).Concat(c.Grads.Values).Concat(c.Outputs))
            {
                Assert.StartsWith(c.Name + "/", t.Name);
                int length = t.IsFloat ? t.Floats.Length : t.Longs.Length;
                Assert.Equal(t.ElementCount, length);
            }
            if (c.GradOutput is { } gy)
            {
                Assert.Equal(c.Output.Shape, gy.Shape);
                foreach (var input in c.Inputs)
                {
                    Assert.Equal(input.IsFloat, c.Grads.ContainsKey(input.Name));
                    if (input.IsFloat)
                    {
                        Assert.Equal(input.Shape, c.Grads[input.Name].Shape);
                    }
                }
            }
            else
            {
                Assert.Empty(c.Grads);
                Assert.NotEmpty(c.Outputs);
                Assert.Contains(c.Output, c.Outputs);
            }
            Assert.All(c.Output.Floats, v => Assert.True(float.IsFinite(v), $"{c.Output.Name} has a non-finite value"));
        }
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void Every_op_of_the_brief_has_a_case(string op)
    {
        Assert.NotEmpty(OpFixtures.Load().OfOp(op));
    }

    [Theory]
    [InlineData("linear", new[] { 2, 5, 3 })]
    [InlineData("matmul_broadcast", new[] { 2, 3, 4, 6 })]
    [InlineData("add_bcast_both", new[] { 2, 3, 4 })]
    [InlineData("permute", new[] { 2, 4, 5, 3 })]
    [InlineData("sdpa_decode", new[] { 2, 4, 1, 8 })]
    [InlineData("token_logprobs", new[] { 2, 4 })]
    [InlineData("conv_patchify", new[] { 2, 6, 2, 2 })]
    [InlineData("pixel_shuffle_r2", new[] { 2, 4, 12 })]
    [InlineData("pixel_shuffle_r3", new[] { 2, 4, 27 })]
    [InlineData("cross_entropy_mean", new int[0])]
    [InlineData("sum", new int[0])]
    [InlineData("mean", new[] { 3, 4 })]
    public void Outputs_have_the_documented_shapes(string name, int[] shape)
    {
        Assert.Equal(shape, OpFixtures.Load().Case(name).Output.Shape);
    }

    [Fact]
    public void Attrs_and_extra_outputs_are_exposed()
    {
        var fixtures = OpFixtures.Load();
        var keymask = fixtures.Case("sdpa_causal_keymask");
        Assert.True(keymask.Attrs.GetProperty("causal").GetBoolean());
        Assert.Equal([5, 3], keymask.Attrs.GetProperty("key_lengths").EnumerateArray().Select(e => e.GetInt32()));
        Assert.False(fixtures.Case("sdpa_causal").Attrs.TryGetProperty("key_lengths", out _));
        Assert.Equal(5, fixtures.Case("sdpa_decode").Attrs.GetProperty("q_offset").GetInt32());

        var adamw = fixtures.Case("adamw");
        Assert.Null(adamw.GradOutput);
        Assert.Equal(["p1", "p2", "p3", "exp_avg", "exp_avg_sq"], adamw.Outputs.Select(t => t.Name["adamw/".Length..]));
        Assert.Same(adamw.Output, adamw.ExtraOutput("p3"));

        var clip = fixtures.Case("clip_grad_norm");
        Assert.Equal([3, 4], clip.ExtraOutput("ga_clipped").Shape);
        Assert.Empty(clip.ExtraOutput("total_norm").Shape);
    }

    // The checks below recompute a few outputs from the stored inputs with plain loops. They test the decoding
    // (offsets, byte order, row-major layout), not the engine.

    [Fact]
    public void Linear_output_matches_x_wT_plus_b()
    {
        var c = OpFixtures.Load().Case("linear");
        float[] x = c.Input("x").Floats, w = c.Input("w").Floats, b = c.Input("b").Floats, y = c.Output.Floats;
        for (int row = 0; row < 10; row++)
        {
            for (int o = 0; o < 3; o++)
            {
                double acc = b[o];
                for (int i = 0; i < 7; i++)
                {
                    acc += (double)x[row * 7 + i] * w[o * 7 + i];
                }
                Assert.Equal(acc, y[row * 3 + o], 1e-5);
            }
        }
    }

    [Fact]
    public void Movement_ops_and_embedding_are_exact_copies()
    {
        var fixtures = OpFixtures.Load();
        var t = fixtures.Case("transpose"); // x[2,3,4] -> y[2,4,3]
        for (int b = 0; b < 2; b++)
        {
            for (int i = 0; i < 3; i++)
            {
                for (int j = 0; j < 4; j++)
                {
                    Assert.Equal(t.Input("x").Floats[(b * 3 + i) * 4 + j], t.Output.Floats[(b * 4 + j) * 3 + i]);
                }
            }
        }

        var e = fixtures.Case("embedding"); // ids[2,5], w[11,6] -> y[2,5,6]
        long[] ids = e.Input("ids").Longs;
        Assert.True(ids.Distinct().Count() < ids.Length, "embedding ids should repeat");
        for (int k = 0; k < ids.Length; k++)
        {
            Assert.Equal(e.Input("w").Floats.AsSpan((int)ids[k] * 6, 6).ToArray(), e.Output.Floats.AsSpan(k * 6, 6).ToArray());
        }

        var s = fixtures.Case("pixel_shuffle_r2"); // smolvlm.md §2.4 closed form, h = w = 4, r = 2, D = 3
        const int W = 4, R = 2, D = 3;
        for (int n = 0; n < 2; n++)
        {
            for (int p = 0; p < W / R; p++)
            {
                for (int q = 0; q < W / R; q++)
                {
                    for (int i = 0; i < R; i++)
                    {
                        for (int j = 0; j < R; j++)
                        {
                            for (int d = 0; d < D; d++)
                            {
                                int token = p * (W / R) + q, channel = (i * R + j) * D + d;
                                float expected = s.Input("x").Floats[(n * 16 + (p * R + i) * W + (q * R + j)) * D + d];
                                Assert.Equal(expected, s.Output.Floats[(n * 4 + token) * 12 + channel]);
                            }
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Reductions_agree_with_their_inputs()
    {
        var fixtures = OpFixtures.Load();
        var sum = fixtures.Case("sum");
        Assert.Equal(sum.Input("x").Floats.Sum(v => (double)v), sum.Output.Floats[0], 1e-5);
        Assert.All(sum.Grad("x").Floats, g => Assert.Equal(sum.GradOutput!.Floats[0], g));

        var softmax = fixtures.Case("softmax").Output.Floats; // [3,4,9]
        for (int row = 0; row < 12; row++)
        {
            Assert.Equal(1.0, softmax.AsSpan(row * 9, 9).ToArray().Sum(v => (double)v), 1e-6);
        }

        var ignored = fixtures.Case("cross_entropy_all_ignored");
        Assert.Equal(0f, ignored.Output.Floats[0]);
        Assert.All(ignored.Grad("logits").Floats, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Wrong_or_missing_format_names_the_script_to_rerun()
    {
        foreach (string format in new[] { "\"format\": 2,", "" })
        {
            using var repo = new TempRepo();
            repo.Write("ops.json", $"{{{format} \"generator\": \"x\", \"torch\": \"0\", \"cases\": []}}");
            repo.CopyTensors();
            var error = Assert.Throws<OpFixtureException>(() => OpFixtures.Load(repo.Root));
            Assert.Contains(OpFixtures.Generator, error.Message);
            Assert.Contains("ops.json", error.Message);
        }
    }

    [Fact]
    public void Missing_files_name_the_script_to_rerun()
    {
        using var repo = new TempRepo();
        var error = Assert.Throws<OpFixtureException>(() => OpFixtures.Load(repo.Root));
        Assert.Contains(OpFixtures.Generator, error.Message);
    }

    [Fact]
    public void Truncated_tensor_file_is_rejected_with_file_and_tensor()
    {
        using var repo = new TempRepo();
        repo.CopyManifest();
        byte[] bytes = File.ReadAllBytes(Path.Combine(OpFixtures.FindRepoRoot(), "tests", "fixtures", "ops", "ops.safetensors"));
        File.WriteAllBytes(Path.Combine(repo.Dir, "ops.safetensors"), bytes[..^100]);
        var error = Assert.Throws<OpFixtureException>(() => OpFixtures.Load(repo.Root));
        Assert.Contains("ops.safetensors", error.Message);
        Assert.Contains("tensor '", error.Message);
    }

    [Fact]
    public void Manifest_reference_to_an_absent_tensor_is_rejected()
    {
        using var repo = new TempRepo();
        repo.CopyTensors();
        repo.Write("ops.json", """
            {"format": 1, "generator": "g", "torch": "0", "cases": [
              {"name": "sum", "op": "sum", "attrs": {}, "inputs": ["sum/nope"], "output": "sum/y",
               "grad_output": "sum/gy", "grads": {}}]}
            """);
        var error = Assert.Throws<OpFixtureException>(() => OpFixtures.Load(repo.Root));
        Assert.Contains("case 'sum'", error.Message);
        Assert.Contains("sum/nope", error.Message);
    }

    /// <summary>A throw-away folder laid out like the repository's tests/fixtures/ops.</summary>
    private sealed class TempRepo : IDisposable
    {
        public TempRepo()
        {
            Root = Path.Combine(Path.GetTempPath(), "vlmtune-opfix-" + Guid.NewGuid().ToString("N"));
            Dir = Path.Combine(Root, "tests", "fixtures", "ops");
            Directory.CreateDirectory(Dir);
        }

        public string Root { get; }

        public string Dir { get; }

        public void Write(string file, string text) => File.WriteAllText(Path.Combine(Dir, file), text);

        public void CopyTensors() => Copy("ops.safetensors");

        public void CopyManifest() => Copy("ops.json");

        public void Dispose() => Directory.Delete(Root, recursive: true);

        private void Copy(string file) =>
            File.Copy(Path.Combine(OpFixtures.FindRepoRoot(), "tests", "fixtures", "ops", file), Path.Combine(Dir, file));
    }
}
