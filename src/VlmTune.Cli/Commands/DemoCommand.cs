using System.CommandLine;
using System.Diagnostics;
using VlmTune.Data;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Recipes;
using VlmTune.Tensors.Cpu;
using VlmTune.Training.Demo;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune demo`: the embedded end-to-end run on the CPU — a seeded synthetic "coloured shapes" task, a tiny random
/// SmolVLM-shaped base, QLoRA SFT then DPO (short exact answers preferred over verbose wrong ones), held-out accuracy
/// before and after each stage, a merge, and one generation on a held-out image.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Run directory.", DefaultValueFactory = _ => Path.Combine("runs", "demo") };
        var seed = new Option<int>("--seed") { Description = "Seed of the data, the base model and training.", DefaultValueFactory = _ => 1 };
        var train = new Option<int>("--train") { Description = "Training examples.", DefaultValueFactory = _ => 1000 };
        var eval = new Option<int>("--eval") { Description = "Held-out examples.", DefaultValueFactory = _ => 100 };
        var device = DeviceSelection.CreateOption();
        var command = new Command("demo", "Run the embedded end-to-end demo (synthetic shapes task; SFT with QLoRA, then DPO, merge, generate).")
        {
            output, seed, train, eval, device,
        };
        command.SetAction(r => Run(r.GetValue(output)!, r.GetValue(seed), r.GetValue(train), r.GetValue(eval), r.GetValue(device) ?? "cpu"));
        return command;
    }

    static int Run(string dir, int seed, int trainCount, int evalCount, string deviceName)
    {
        // The demo runs on the CPU unless asked: its numbers (and its time budget) are the CPU's.
        var device = DeviceSelection.Resolve(deviceName, null, m => Console.Error.WriteLine(m), m => Console.Error.WriteLine($"warning: {m}"));
        string[] on = ["--device", deviceName];
        var clock = Stopwatch.StartNew();
        dir = Path.GetFullPath(dir);
        Directory.CreateDirectory(dir);
        string data = Path.Combine(dir, "data"), recipes = Path.Combine(dir, "recipes");
        var task = ShapesTask.Write(data, (ulong)seed, trainCount, evalCount);
        Directory.CreateDirectory(recipes);
        foreach (var name in new[] { "sft.yaml", "dpo.yaml" })
        {
            using var res = typeof(DemoCommand).Assembly.GetManifestResourceStream($"recipes.tiny.{name}")
                ?? throw new InvalidOperationException($"embedded recipe {name} missing");
            using var file = File.Create(Path.Combine(recipes, name));
            res.CopyTo(file);
        }
        Console.WriteLine($"demo: {task.Train.Count} training / {task.Eval.Count} held-out examples in {data}");

        string baseDir = Path.Combine(dir, "base");
        Step(Program.Main(["init", "--like", "tiny", "--out", baseDir, "--force", "--seed", seed.ToString(), "--dtype", "f32"]), "init");
        double before = Accuracy(baseDir, null, task, data, device);
        Console.WriteLine($"demo: held-out accuracy of the random base: {before:P1}");

        string sft = Path.Combine(dir, "sft");
        Step(TrainCommand.Run(RecipeKind.Sft, Path.Combine(recipes, "sft.yaml"),
            [$"model.path={baseDir}", $"data.train={Path.Combine(data, "sft-train.jsonl")}", $"output.dir={sft}", $"seed={seed}"], deviceName), "sft");
        double afterSft = Accuracy(baseDir, Path.Combine(sft, "adapter"), task, data, device);
        Console.WriteLine($"demo: held-out accuracy after SFT (QLoRA): {before:P1} → {afterSft:P1}");

        string sftMerged = Path.Combine(dir, "sft-merged");
        Step(Program.Main(["merge", "--model", baseDir, "--adapter", Path.Combine(sft, "adapter"), "--out", sftMerged, "--merge-onto", "dequantized", "--dtype", "f32", "--force", .. on]), "merge");
        string dpo = Path.Combine(dir, "dpo");
        Step(TrainCommand.Run(RecipeKind.Dpo, Path.Combine(recipes, "dpo.yaml"),
            [$"model.path={sftMerged}", $"data.train={Path.Combine(data, "dpo-train.jsonl")}", $"output.dir={dpo}", $"seed={seed}"], deviceName), "dpo");
        double afterDpo = Accuracy(sftMerged, Path.Combine(dpo, "adapter"), task, data, device);
        Console.WriteLine($"demo: held-out accuracy after DPO: {afterSft:P1} → {afterDpo:P1}");

        string final = Path.Combine(dir, "final");
        Step(Program.Main(["merge", "--model", sftMerged, "--adapter", Path.Combine(dpo, "adapter"), "--out", final, "--merge-onto", "dequantized", "--dtype", "f32", "--force", .. on]), "merge");
        var sample = task.Eval[0];
        Console.WriteLine($"demo: generate on held-out {Path.GetFileName(sample.ImagePath)} — \"{sample.QuestionText}\" (truth: {sample.Answer})");
        Step(Program.Main(["generate", "--model", final, "--image", Path.Combine(data, sample.ImagePath), "--prompt", sample.QuestionText, "--max-new-tokens", "8", .. on]), "generate");
        Console.WriteLine($"demo: done in {clock.Elapsed.TotalSeconds:F0} s — accuracy {before:P1} → SFT {afterSft:P1} → DPO {afterDpo:P1}; model in {final}");
        return 0;
    }

    static void Step(int code, string what)
    {
        if (code != 0) throw new UserErrorException($"demo: the {what} step failed (exit code {code})");
    }

    /// <summary>Greedy answers (≤ 6 tokens) to every held-out question, scored by exact match.</summary>
    static double Accuracy(string modelDir, string? adapter, ShapesDataset task, string dataDir, VlmTune.Tensors.Device device)
    {
        var processor = SmolVlmProcessor.FromDirectory(modelDir);
        // The adapter runs on the base it was trained against (the 4-bit base of QLoRA, from vlmtune_base.json), as
        // `generate` and `eval` run it: the accuracy shown is the trained model's.
        var (model, _) = AdaptedModelOptions.Load(modelDir, adapter, "as-trained", device);
        var answers = new List<string>();
        foreach (var rec in task.Eval)
        {
            var inputs = GenerateCommand.FromPrompt(processor, rec.QuestionText, Path.Combine(dataDir, rec.ImagePath));
            var (tokens, _) = Generator.Generate(model, inputs, new GenerationOptions { MaxNewTokens = 6, StopTokenIds = [processor.TokenIds.EndOfUtterance] });
            answers.Add(processor.Tokenizer.Decode(tokens.Where(t => t != processor.TokenIds.EndOfUtterance).Select(t => (int)t).ToArray()));
        }
        double all = ShapesTask.Accuracy(task.Eval, answers);
        var parts = task.Eval.Select((r, i) => (r.Question, Ok: ShapesTask.Score(answers[i], r.Answer)))
            .GroupBy(x => x.Question).Select(g => $"{g.Key.ToString().ToLowerInvariant()} {g.Count(x => x.Ok)}/{g.Count()}");
        Console.WriteLine($"demo:   {(adapter == null ? "base" : Path.GetFileName(Path.GetDirectoryName(adapter)))}: {string.Join(", ", parts)}; e.g. \"{answers[0]}\" for \"{task.Eval[0].Answer}\"");
        return all;
    }
}
