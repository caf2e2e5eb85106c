using System.CommandLine;
using Spectre.Console;
using VlmTune.Recipes;
using VlmTune.Tensors.Cpu;
using VlmTune.Training;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune sft RECIPE` / `vlmtune dpo RECIPE` [--set key=value ...]: load and validate the recipe (every error before
/// any compute), save the resolved recipe in the run directory, then train; a run directory with checkpoints resumes
/// automatically. Ctrl-C writes a checkpoint and exits.
/// </summary>
public static class TrainCommand
{
    public static Command Create(RecipeKind kind)
    {
        string verb = kind == RecipeKind.Sft ? "sft" : "dpo";
        var recipe = new Argument<string>("recipe") { Description = "Recipe YAML file (see recipes/ and `vlmtune recipe keys`)." };
        var set = new Option<string[]>("--set") { Description = "Override a recipe key, e.g. --set lora.r=16 (repeatable).", AllowMultipleArgumentsPerToken = true };
        var device = DeviceSelection.CreateOption();
        var command = new Command(verb, kind == RecipeKind.Sft
            ? "Supervised fine-tuning with LoRA / QLoRA from a recipe."
            : "Preference optimisation (DPO, IPO, hinge, robust) with LoRA / QLoRA from a recipe.") { recipe, set, device };
        command.SetAction(r => Run(kind, r.GetValue(recipe)!, r.GetValue(set) ?? [], r.GetValue(device)));
        return command;
    }

    public static int Run(RecipeKind kind, string recipePath, IReadOnlyList<string> overrides, string? deviceName = null)
    {
        if (!File.Exists(recipePath)) throw new UserErrorException($"{recipePath}: recipe file not found");
        var recipe = RecipeLoader.Load(recipePath, overrides);
        if (recipe.Kind != kind)
            throw new UserErrorException($"{recipePath}: kind is {recipe.Kind.ToString().ToLowerInvariant()}, but this is `vlmtune {kind.ToString().ToLowerInvariant()}`");
        var settings = RecipeMapping.ToRunSettings(recipe);
        settings = settings with { ModelDir = HubModels.Resolve(settings.ModelDir) };   // a Hub id → its snapshot in the HF cache
        if (!File.Exists(Path.Combine(settings.ModelDir, "config.json")))
            throw new UserErrorException($"{recipePath}: model.path {settings.ModelDir} is not a checkpoint directory (no config.json)");
        if (!Data.Datasets.DatasetReader.Exists(settings.TrainData)) throw new UserErrorException($"{recipePath}: data.train {settings.TrainData} not found");
        if (settings.EvalData != null && !Data.Datasets.DatasetReader.Exists(settings.EvalData)) throw new UserErrorException($"{recipePath}: data.eval {settings.EvalData} not found");
        // The device before anything is written: `--device cuda` without a GPU must leave no run folder behind.
        var deviceLog = new List<(bool Warn, string Text)>();
        var device = DeviceSelection.Resolve(deviceName, recipe.Device, m => deviceLog.Add((false, m)), m => deviceLog.Add((true, m)), recipePath);
        Directory.CreateDirectory(settings.OutputDir);
        File.WriteAllText(Path.Combine(settings.OutputDir, Recipe.ResolvedFileName), recipe.ToYaml());

        // A live progress bar when the output is a terminal (logging.progress: auto); plain lines otherwise.
        bool live = recipe.Logging.Progress == ProgressMode.Auto && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        using var observer = new RunObserver(settings.OutputDir, settings.LogEverySteps, console: !live && recipe.Logging.Progress != ProgressMode.None,
            tensorboard: recipe.Logging.Tensorboard);
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            observer.Warn("interrupted: writing a checkpoint after the current step");
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            observer.Info($"{recipe.Kind.ToString().ToLowerInvariant()} run → {settings.OutputDir} (recipe {recipePath}, hash {recipe.Hash()[..12]})");
            foreach (var (warn, text) in deviceLog) (warn ? (Action<string>)observer.Warn : observer.Info)(text);
            void Train()
            {
                if (kind == RecipeKind.Sft) new SftTrainer(settings, device, observer).Run(cancel.Token);
                else new DpoTrainer(settings, device, observer).Run(cancel.Token);
            }
            if (!live) Train();
            else
            {
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask($"{recipe.Kind.ToString().ToLowerInvariant()}: loading", maxValue: 1);
                        observer.OnStep = r =>
                        {
                            task.MaxValue = r.TotalSteps;
                            task.Value = r.Step;
                            task.Description = $"step {r.Step}/{r.TotalSteps}  loss {r.Loss:F4}  {r.TokensPerSecond:F0} tok/s";
                        };
                        Train();
                    });
                Console.WriteLine($"log: {Path.Combine(settings.OutputDir, "train.log")}, metrics: {Path.Combine(settings.OutputDir, "metrics.jsonl")}");
            }
            return cancel.IsCancellationRequested ? 130 : 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
