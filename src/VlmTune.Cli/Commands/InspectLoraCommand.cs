using System.CommandLine;
using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Nn.Lora;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune inspect lora`: what a LoRA setting adapts on a model, from config.json alone (no weights are read): the
/// resolved modules per tower, the trainable-parameter count, and plain warnings when a name list also matches modules
/// of a tower that was not chosen (PEFT's name matching would adapt them; VlmTune does not unless asked).
/// </summary>
public static class InspectLoraCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Checkpoint directory (config.json is enough)." };
        var positional = new Argument<string?>("model") { Description = "The same as --model (kept for older scripts).", Arity = ArgumentArity.ZeroOrOne };
        var targets = new Option<string>("--targets") { Description = "Comma-separated module names (PEFT list semantics), 'all-linear', or a regex with --regex.", DefaultValueFactory = _ => "q_proj,k_proj,v_proj,o_proj" };
        var regex = new Option<bool>("--regex") { Description = "Treat --targets as one full-match regular expression (PEFT string semantics)." };
        var towers = new Option<string>("--towers") { Description = "Towers to adapt: text, vision, connector (comma-separated).", DefaultValueFactory = _ => "text" };
        var rank = new Option<int>("--r") { Description = "LoRA rank.", DefaultValueFactory = _ => 8 };
        var dora = new Option<bool>("--dora") { Description = "Count DoRA magnitude vectors too." };
        var save = new Option<string[]>("--modules-to-save") { Description = "Modules trained in full (e.g. connector.modality_projection.proj).", AllowMultipleArgumentsPerToken = true };
        var list = new Option<bool>("--list") { Description = "Print every resolved module path." };
        var command = new Command("lora", "Show which modules a LoRA setting adapts and how many parameters it trains.")
        {
            model, positional, targets, regex, towers, rank, dora, save, list,
        };
        command.SetAction(r =>
        {
            string dir = r.GetValue(model) ?? r.GetValue(positional) ?? throw new UserErrorException("--model is required (the checkpoint directory)");
            if (!File.Exists(Path.Combine(dir, "config.json"))) throw new UserErrorException($"{dir}: no config.json (not a checkpoint directory)");
            var config = SmolVlmConfig.Load(dir);
            string t = r.GetValue(targets)!;
            var settings = new LoraSettings
            {
                Targets = r.GetValue(regex) ? TargetModules.FromRegex(t)
                    : t == "all-linear" ? TargetModules.AllLinear
                    : TargetModules.FromNames(t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
                Towers = r.GetValue(towers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseTower).ToHashSet(),
                ModulesToSave = r.GetValue(save) ?? [],
                Lora = new LoraOptions { Rank = r.GetValue(rank), Alpha = 2 * r.GetValue(rank), UseDora = r.GetValue(dora) },
            };
            var res = LoraTargets.Resolve(LinearInfo.FromConfig(config), settings);
            Console.WriteLine($"targets: {t} (towers: {LoraSettings.TowerList(settings.Towers)})");
            Console.WriteLine($"PEFT name matching selects {res.PeftMatches.Count} modules; adapted: {res.Modules.Count} " +
                              $"({string.Join(", ", res.CountsByTower.Select(kv => $"{LoraSettings.TowerName(kv.Key)} {kv.Value}"))})");
            if (res.ModulesToSave.Count > 0) Console.WriteLine($"modules to save (trained in full): {string.Join(", ", res.ModulesToSave.Select(m => m.Path))}");
            Console.WriteLine($"trainable parameters: {res.TrainableParameters}");
            foreach (var w in res.Warnings) Console.WriteLine($"warning: {w}");
            if (r.GetValue(list)) foreach (var p in res.ModulePaths) Console.WriteLine($"  {p}");
            return 0;
        });
        return command;
    }

    static Tower ParseTower(string s) => s switch
    {
        "text" => Tower.Text,
        "vision" => Tower.Vision,
        "connector" => Tower.Connector,
        _ => throw new UserErrorException($"--towers: unknown tower '{s}' (text, vision, connector)"),
    };
}
