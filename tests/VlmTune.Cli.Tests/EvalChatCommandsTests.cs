using System.Text.Json.Nodes;
using VlmTune.Models.SmolVlm;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Cli.Tests;

/// <summary>eval, chat, generate with several images and a system turn, the batch text pipeline, and dpo's held-out eval.</summary>
[Collection("console")]
public class EvalChatCommandsTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-eval-cli-{Guid.NewGuid():N}");
    static string Root => CliHarness.RepoRoot();
    static string Model => Path.Combine(Root, "tests/fixtures/model/tiny");
    static string Data(string name) => Path.Combine(Root, "tests/fixtures/data", name);

    public EvalChatCommandsTests() => Directory.CreateDirectory(_tmp);

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }

    [Fact]
    public void Eval_sft_writes_predictions_and_a_summary_with_the_trainers_loss_rule()
    {
        string outDir = Path.Combine(_tmp, "eval");
        var (code, output, err) = CliHarness.Run("eval", "--model", Model, "--data", Data("sft.jsonl"), "--out", outDir, "--limit", "2",
            "--max-new-tokens", "3", "--batch-size", "2");
        Assert.True(code == 0, err);
        Assert.Contains("eval: scored 2/2 records", err);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")))!;
        Assert.Equal("sft", (string)summary["kind"]!);
        Assert.Equal(2, (int)summary["records"]!);
        Assert.Equal(JsonNode.Parse(output)!.ToJsonString(), summary.ToJsonString());
        var lines = File.ReadAllLines(Path.Combine(outDir, "predictions.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(2, lines.Count);
        Assert.EndsWith("sft.jsonl:1", (string)lines[0]["record"]!);
        Assert.Equal("It is dark blue.", (string)lines[0]["reference"]!);
        Assert.NotNull(lines[0]["prediction"]);
        // Token-weighted: Σ per-record Nll / Σ tokens = the summary loss.
        double nll = lines.Sum(l => (double)l["loss"]! * (long)l["tokens"]!);
        Assert.Equal(nll / (long)summary["supervised_tokens"]!, (double)summary["loss"]!, 4);
        // Batch size changes neither the numbers nor the answers (padding is masked; batched generation is left-padded).
        string one = Path.Combine(_tmp, "eval1");
        var (code1, output1, _) = CliHarness.Run("eval", "--model", Model, "--data", Data("sft.jsonl"), "--limit", "2", "--out", one,
            "--max-new-tokens", "3", "--batch-size", "1");
        Assert.Equal(0, code1);
        Assert.Equal((double)summary["loss"]!, (double)JsonNode.Parse(output1)!["loss"]!, 4);
        var single = File.ReadAllLines(Path.Combine(one, "predictions.jsonl")).Select(l => (string?)JsonNode.Parse(l)!["prediction"]);
        Assert.Equal(lines.Select(l => (string?)l["prediction"]), single);
    }

    [Fact]
    public void Eval_loss_equals_the_forward_logits_cross_entropy()
    {
        // One text-only conversation: eval's loss against a hand computation from `forward` of the same tokens.
        string data = Path.Combine(_tmp, "one.jsonl");
        File.WriteAllText(data, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yes\"}]}\n");
        var (code, output, err) = CliHarness.Run("eval", "--model", Model, "--data", data, "--no-generate");
        Assert.True(code == 0, err);
        var processor = VlmTune.Data.SmolVlmProcessor.FromDirectory(Model);
        var ex = VlmTune.Data.Datasets.DatasetReader.OpenSft(data).Examples(new VlmTune.Data.Datasets.BadRecordLog(VlmTune.Data.Datasets.BadRecordPolicy.Error)).Single();
        var enc = new VlmTune.Data.Encoding.SftEncoder(processor).Encode(ex)!;
        var m = SmolVlmModel.Load(Model, CpuBackend.Device, out _);
        float[] logits;
        using (GradMode.NoGrad()) logits = m.Forward(new SmolVlmInputs { InputIds = enc.InputIds.Select(i => (long)i).ToArray(), Batch = 1 }).ToFloatArray();
        int v = m.Config.Text.VocabSize;
        double nll = 0;
        int n = 0;
        for (int t = 1; t < enc.Labels.Length; t++)
        {
            if (enc.Labels[t] == -100) continue;
            var row = logits.AsSpan((t - 1) * v, v);
            double max = double.NegativeInfinity, sum = 0;
            foreach (var x in row) max = Math.Max(max, x);
            foreach (var x in row) sum += Math.Exp(x - max);
            nll += max + Math.Log(sum) - row[enc.Labels[t]];
            n++;
        }
        Assert.Equal(nll / n, (double)JsonNode.Parse(output)!["loss"]!, 4);
    }

    [Fact]
    public void Eval_dpo_reports_reward_metrics_and_detects_the_kind()
    {
        var (code, output, err) = CliHarness.Run("eval", "--model", Model, "--data", Data("dpo.jsonl"));
        Assert.True(code == 0, err);
        var s = JsonNode.Parse(output)!;
        Assert.Equal("dpo", (string)s["kind"]!);
        Assert.Equal(2, (int)s["pairs"]!);
        Assert.Equal(0.0, (double)s["rewards/margins"]!);            // no adapter: policy = reference
        Assert.Equal(Math.Log(2), (double)s["loss"]!, 5);
        Assert.True((double)s["logps/chosen"]! < 0);
        var (bad, _, berr) = CliHarness.Run("eval", "--model", Model, "--data", Path.Combine(_tmp, "missing.jsonl"));
        Assert.Equal(1, bad);
        Assert.Contains("missing.jsonl: data file not found", berr);
    }

    [Fact]
    public void Chat_keeps_the_conversation_and_handles_its_commands_from_stdin()
    {
        string image = Data("images/wide.png");
        var input = new StringReader($"hello\n/image {image}\nwhat is it?\n/system Be brief.\n/reset\nagain\n/nope\n");
        var old = Console.In;
        Console.SetIn(input);
        (int Code, string Out, string Err) r;
        try { r = CliHarness.Run("chat", "--model", Model, "--max-new-tokens", "3"); }
        finally { Console.SetIn(old); }
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("image 1 attached to the next turn", r.Err);
        Assert.Contains("system message set", r.Err);
        Assert.Contains("conversation reset", r.Err);
        Assert.Contains("unknown command /nope", r.Err);
        var replies = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, replies.Length);

        // The first reply equals `generate` of the same single turn (greedy, same template).
        var (gcode, gout, _) = CliHarness.Run("generate", "--model", Model, "--prompt", "hello", "--max-new-tokens", "3");
        Assert.Equal(0, gcode);
        Assert.Equal(gout.Split('\n')[0].Trim(), replies[0].Trim());
        // After /reset (with the system message still set) the turn equals generate --system.
        (gcode, gout, _) = CliHarness.Run("generate", "--model", Model, "--system", "Be brief.", "--prompt", "again", "--max-new-tokens", "3");
        Assert.Equal(gout.Split('\n')[0].Trim(), replies[2].Trim());
    }

    [Fact]
    public void Generate_takes_several_images_in_order()
    {
        string a = Data("images/wide.png");
        var tall = Directory.GetFiles(Data("images"), "*.png").First(f => f != a);
        var (code, _, err) = CliHarness.Run("generate", "--model", Model, "--prompt", "compare", "--image", a, "--image", tall, "--max-new-tokens", "2");
        Assert.True(code == 0, err);
        var processor = VlmTune.Data.SmolVlmProcessor.FromDirectory(Model);
        int one = int.Parse(CliHarness.Run("generate", "--model", Model, "--prompt", "compare", "--image", a, "--max-new-tokens", "1").Err.Split(" prompt tokens")[0].Split('\n')[^1]);
        int two = int.Parse(err.Split(" prompt tokens")[0].Split('\n')[^1]);
        Assert.True(two > one, $"two images give {two} prompt tokens, one gives {one}");
        var (mcode, _, merr) = CliHarness.Run("generate", "--model", Model, "--prompt", "x", "--image", Path.Combine(_tmp, "nope.png"));
        Assert.Equal(1, mcode);
        Assert.Contains("nope.png: image not found", merr);
    }

    [Fact]
    public void Tokenize_jsonl_decode_and_render_form_a_batch_text_pipeline()
    {
        string texts = Path.Combine(_tmp, "texts.jsonl"), ids = Path.Combine(_tmp, "ids.jsonl"), back = Path.Combine(_tmp, "back.jsonl");
        File.WriteAllText(texts, "\uFEFF\"User: hi<end_of_utterance>\"\n\n{\"text\": \"a b\"}\n");
        var (code, _, err) = CliHarness.Run("tokenize", "--model", Model, "--jsonl", texts, "--out", ids, "--no-special");
        Assert.True(code == 0, err);
        var tokenizer = VlmTune.Tokenizers.Tokenizer.FromDirectory(Model);
        var lines = File.ReadAllLines(ids);
        Assert.Equal(2, lines.Length);
        Assert.Equal(tokenizer.Encode("User: hi<end_of_utterance>", addSpecialTokens: false), JsonNode.Parse(lines[0])!["ids"]!.AsArray().Select(x => (int)x!).ToArray());

        (code, _, err) = CliHarness.Run("decode", "--model", Model, "--jsonl", ids, "--out", back);
        Assert.True(code == 0, err);
        Assert.Equal("User: hi<end_of_utterance>", (string)JsonNode.Parse(File.ReadAllLines(back)[0])!["text"]!);
        var (scode, sout, _) = CliHarness.Run("decode", "--model", Model, "--ids", string.Join(",", tokenizer.Encode("User: hi<end_of_utterance>", false)), "--skip-special-tokens");
        Assert.Equal(0, scode);
        Assert.Equal("User: hi", sout.TrimEnd('\n'));

        File.WriteAllText(Path.Combine(_tmp, "bad.jsonl"), "[1, 2]\n{\"ids\": [1, -4]}\n");
        (code, _, err) = CliHarness.Run("decode", "--model", Model, "--jsonl", Path.Combine(_tmp, "bad.jsonl"), "--out", Path.Combine(_tmp, "never.jsonl"));
        Assert.Equal(1, code);
        Assert.Contains("bad.jsonl:2: ids[1] = -4 is not a token id", err);
        Assert.False(File.Exists(Path.Combine(_tmp, "never.jsonl")));

        var (rcode, rout, rerr) = CliHarness.Run("render", "--model", Model, "--data", Data("sft.jsonl"));
        Assert.True(rcode == 0, rerr);
        var first = JsonNode.Parse(rout.Split('\n')[0])!;
        Assert.EndsWith("sft.jsonl:1", (string)first["record"]!);
        Assert.Contains("<image>What colour is the left edge?<end_of_utterance>", (string)first["text"]!);
        Assert.Contains("Assistant: It is dark blue.", (string)first["text"]!);
    }

    [Fact]
    public void Dpo_evaluates_held_out_pairs_into_metrics_jsonl()
    {
        string run = Path.Combine(_tmp, "dpo");
        var (code, output, err) = CliHarness.Run("dpo", Path.Combine(Root, "recipes/tiny/dpo.yaml"),
            "--set", $"model.path={Model}", "--set", $"data.train={Data("dpo.jsonl")}", "--set", $"data.eval={Data("dpo.jsonl")}",
            "--set", $"output.dir={run}", "--set", "train.max_steps=2", "--set", "train.batch_size=2");
        Assert.True(code == 0, err + output);
        var evals = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!).Where(l => l["eval_loss"] != null).ToList();
        Assert.Single(evals);
        Assert.Equal(2, (int)evals[0]["step"]!);
        Assert.Equal(2, (int)evals[0]["eval_pairs"]!);
        Assert.NotNull(evals[0]["eval_rewards/accuracies"]);
        Assert.NotEqual(0.0, (double)evals[0]["eval_rewards/margins"]!);   // the trained adapter moved the policy
    }
}
