using System.Text.Json.Nodes;
using VlmTune.Training.Demo;

namespace VlmTune.Cli.Tests;

/// <summary>
/// The CI-sized learning check (issue 15): one task of the learning benchmark (bench/learn.sh), not the demo's, run
/// through the tiny recipes as users run them — init a random tiny base → QLoRA SFT → eval → merge → DPO with the SFT
/// model as its reference → eval. Only the data paths and the length of the SFT run change; everything else is the
/// recipe. Fails when SFT stops learning or when DPO lowers held-out accuracy.
/// </summary>
[Collection("console")]
public class LearningTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-learning-{Guid.NewGuid():N}");
    static string Root => CliHarness.RepoRoot();

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }

    [Fact]
    public void The_tiny_recipes_learn_a_task_they_were_not_tuned_for_and_dpo_keeps_what_sft_taught()
    {
        // The issue's family: disc colour (4) × quadrant (4), 64 px; position is what an over-fast lr never learnt.
        string data = Path.Combine(_tmp, "data");
        LearningTasks.Write("quadrant", data, seed: 3, train: 400, eval: 80, pairs: 200);
        string baseDir = Path.Combine(_tmp, "base"), sft = Path.Combine(_tmp, "sft"), merged = Path.Combine(_tmp, "sft-merged"), dpo = Path.Combine(_tmp, "dpo");
        Ok(CliHarness.Run("init", "--like", "tiny", "--out", baseDir, "--seed", "3", "--dtype", "f32"));
        double before = Accuracy(baseDir, null, data, "eval-base");

        Ok(CliHarness.Run("sft", Path.Combine(Root, "recipes/tiny/sft.yaml"), "--set", $"model.path={baseDir}",
            "--set", $"data.train={Path.Combine(data, "sft-train.jsonl")}", "--set", $"output.dir={sft}", "--set", "seed=3",
            "--set", "train.max_steps=600", "--set", "logging.progress=none"));
        double afterSft = Accuracy(baseDir, Path.Combine(sft, "adapter"), data, "eval-sft");

        Ok(CliHarness.Run("merge", "--model", baseDir, "--adapter", Path.Combine(sft, "adapter"), "--out", merged, "--dtype", "f32", "--force"));
        Ok(CliHarness.Run("dpo", Path.Combine(Root, "recipes/tiny/dpo.yaml"), "--set", $"model.path={merged}",
            "--set", $"data.train={Path.Combine(data, "dpo-train.jsonl")}", "--set", $"output.dir={dpo}", "--set", "seed=3",
            "--set", "logging.progress=none"));
        double afterDpo = Accuracy(merged, Path.Combine(dpo, "adapter"), data, "eval-dpo");

        Assert.True(before < 0.3, $"the random base should be near chance, got {before:P1}");
        Assert.True(afterSft >= 0.9, $"SFT stopped learning: held-out accuracy {before:P1} → {afterSft:P1} (expected ≥ 90 %)");
        Assert.True(afterDpo >= afterSft, $"DPO lowered held-out accuracy: {afterSft:P1} → {afterDpo:P1}");
    }

    double Accuracy(string model, string? adapter, string data, string name)
    {
        string outDir = Path.Combine(_tmp, name);
        string[] args = ["eval", "--model", model, "--data", Path.Combine(data, "sft-eval.jsonl"), "--out", outDir, "--max-new-tokens", "12"];
        if (adapter != null) args = [.. args, "--adapter", adapter];
        Ok(CliHarness.Run(args));
        return (double)JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")))!["normalized_match"]!;
    }

    static void Ok((int Code, string Out, string Err) run) => Assert.True(run.Code == 0, run.Err + run.Out);
}
