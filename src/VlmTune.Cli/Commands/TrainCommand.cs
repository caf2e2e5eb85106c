using System.CommandLine;
using System.Runtime.InteropServices;
using Spectre.Console;
using VlmTune.Recipes;
using VlmTune.Tensors.Cpu;
using VlmTune.Training;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune sft RECIPE` / `vlmtune dpo RECIPE` [--set key=value ...]: load and validate the recipe (every error before
/// any compute), lock the run directory (one run at a time), check its checkpoints against the recipe, save the
/// resolved recipe, then train. A run directory with checkpoints resumes automatically (`--extend` continues it to a
/// longer train.max_steps / train.epochs, `--no-resume` starts afresh). Ctrl-C and SIGTERM write a checkpoint and exit 130.
/// </summary>
public static class TrainCommand
{
    public static Command Create(RecipeKind kind)
    {
        string verb = kind == RecipeKind.Sft ? "sft" : "dpo";
        var recipe = new Argument<string>("recipe") { Description = "Recipe YAML file (see recipes/ and `vlmtune recipe keys`)." };
        var set = new Option<string[]>("--set") { Description = "Override a recipe key, e.g. --set lora.r=16 (repeatable).", AllowMultipleArgumentsPerToken = true };
        var device = DeviceSelection.CreateOption();
        var extend = new Option<bool>("--extend") { Description = "Continue a finished or interrupted run whose recipe differs only in a higher train.max_steps / train.epochs." };
        var noResume = new Option<bool>("--no-resume") { Description = "Start afresh: remove the run's checkpoints, adapter, logs and metrics from output.dir first (each is listed)." };
        var yes = new Option<bool>("--yes") { Description = "With --no-resume: do not ask before removing (implied when the input is not a terminal)." };
        var command = new Command(verb, kind == RecipeKind.Sft
            ? "Supervised fine-tuning with LoRA / QLoRA from a recipe."
            : "Preference optimisation (DPO, IPO, hinge, robust) with LoRA / QLoRA from a recipe.") { recipe, set, device, extend, noResume, yes };
        command.SetAction(r => Run(kind, r.GetValue(recipe)!, r.GetValue(set) ?? [], r.GetValue(device),
            new Lifecycle(r.GetValue(extend), r.GetValue(noResume), r.GetValue(yes))));
        return command;
    }

    /// <summary>How a rerun into an existing run directory is treated.</summary>
    public sealed record Lifecycle(bool Extend = false, bool NoResume = false, bool Yes = false);

    public static int Run(RecipeKind kind, string recipePath, IReadOnlyList<string> overrides, string? deviceName = null, Lifecycle? lifecycle = null)
    {
        lifecycle ??= new Lifecycle();
        if (lifecycle.Extend && lifecycle.NoResume) throw new UserErrorException("--extend continues a run and --no-resume discards it: choose one");
        if (!File.Exists(recipePath)) throw new UserErrorException($"{recipePath}: recipe file not found");
        var recipe = RecipeLoader.Load(recipePath, overrides);
        if (recipe.Kind != kind)
            throw new UserErrorException($"{recipePath}: kind is {recipe.Kind.ToString().ToLowerInvariant()}, but this is `vlmtune {kind.ToString().ToLowerInvariant()}`");
        var settings = RecipeMapping.ToRunSettings(recipe) with { Extend = lifecycle.Extend };
        settings = settings with { ModelDir = HubModels.Resolve(settings.ModelDir) };   // a Hub id → its snapshot in the HF cache
        if (!File.Exists(Path.Combine(settings.ModelDir, "config.json")))
            throw new UserErrorException($"{recipePath}: model.path {settings.ModelDir} is not a checkpoint directory (no config.json)");
        if (!Data.Datasets.DatasetReader.Exists(settings.TrainData)) throw new UserErrorException($"{recipePath}: data.train {settings.TrainData} not found");
        if (settings.EvalData != null && !Data.Datasets.DatasetReader.Exists(settings.EvalData)) throw new UserErrorException($"{recipePath}: data.eval {settings.EvalData} not found");
        // The device before anything is written: `--device cuda` without a GPU must leave no run folder behind.
        var deviceLog = new List<(bool Warn, string Text)>();
        var device = DeviceSelection.Resolve(deviceName, recipe.Device, m => deviceLog.Add((false, m)), m => deviceLog.Add((true, m)), recipePath);
        using var run = RunDirectory.Acquire(settings.OutputDir);
        var cleanup = run.RemoveLeftovers();
        if (lifecycle.NoResume) ClearRun(run, lifecycle.Yes);
        // Before anything is written: a recipe the checkpoints refuse must not replace the run's recorded one.
        RunDirectory.CheckResumable(settings);
        File.WriteAllText(Path.Combine(settings.OutputDir, Recipe.ResolvedFileName), recipe.ToYaml());

        // A live progress bar when the output is a terminal (logging.progress: auto); plain lines otherwise.
        bool live = recipe.Logging.Progress == ProgressMode.Auto && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        using var observer = new RunObserver(settings.OutputDir, settings.LogEverySteps, console: !live && recipe.Logging.Progress != ProgressMode.None,
            tensorboard: recipe.Logging.Tensorboard);
        using var cancel = new CancellationTokenSource();
        // SIGTERM (kill, a scheduler's stop) is treated as Ctrl-C: checkpoint after the current step, exit 130.
        // A second signal while the checkpoint is pending ends the process at once.
        void OnSignal(PosixSignalContext ctx)
        {
            if (cancel.IsCancellationRequested) return;
            ctx.Cancel = true;
            observer.Warn($"interrupted ({(ctx.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "Ctrl-C")}): writing a checkpoint after the current step");
            cancel.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            observer.Info($"{recipe.Kind.ToString().ToLowerInvariant()} run → {settings.OutputDir} (recipe {recipePath}, hash {recipe.Hash()[..12]})");
            foreach (var line in cleanup) observer.Warn(line);
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
        catch (CheckpointWriteException e)
        {
            throw new UserErrorException(e.Message);
        }
    }

    /// <summary>`--no-resume`: lists what is removed and, at a terminal, asks first.</summary>
    static void ClearRun(RunDirectory run, bool yes)
    {
        var artifacts = RunDirectory.RunArtifacts(run.Path);
        if (artifacts.Count == 0) return;
        Console.WriteLine($"--no-resume: removing from {run.Path}:");
        foreach (var a in artifacts) Console.WriteLine($"  {Path.GetFileName(a)}{(Directory.Exists(a) ? "/" : "")}");
        if (!yes && !Console.IsInputRedirected)
        {
            Console.Write("Remove these? [y/N] ");
            if (Console.ReadLine()?.Trim().ToLowerInvariant() is not ("y" or "yes"))
                throw new UserErrorException("--no-resume: nothing removed, not started");
        }
        run.Clear();
    }
}
