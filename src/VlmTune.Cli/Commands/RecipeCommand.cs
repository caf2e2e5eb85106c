using System.CommandLine;
using VlmTune.Recipes;

namespace VlmTune.Cli.Commands;

/// <summary>`vlmtune recipe keys` lists every recipe key; `vlmtune recipe validate FILE [--set ...]` checks one and prints it resolved.</summary>
public static class RecipeCommand
{
    public static Command Create()
    {
        var keys = new Command("keys", "List every recipe key with its type, default and meaning.");
        keys.SetAction(_ => { Console.WriteLine(RecipeDocs.Describe()); return 0; });
        var file = new Argument<string>("recipe") { Description = "Recipe YAML file." };
        var set = new Option<string[]>("--set") { Description = "Override a key (repeatable).", AllowMultipleArgumentsPerToken = true };
        var validate = new Command("validate", "Check a recipe (and overrides) and print it fully resolved.") { file, set };
        validate.SetAction(r =>
        {
            string path = r.GetValue(file)!;
            if (!File.Exists(path)) throw new UserErrorException($"{path}: recipe file not found");
            var recipe = RecipeLoader.Load(path, r.GetValue(set) ?? []);
            Console.Write(recipe.ToYaml());
            // What `sft` / `dpo` would refuse before any compute, named by the recipe key.
            var missing = new List<string>();
            // A Hub id is resolved (and downloaded if missing) when the run starts, not here: validating never downloads.
            bool hubModel = !Directory.Exists(recipe.Model.Path) && Hub.HubLocator.IsHubId(recipe.Model.Path, Hub.HubRepoType.Model);
            if (!hubModel && !File.Exists(Path.Combine(recipe.Model.Path, "config.json")))
                missing.Add($"model.path {recipe.Model.Path} is not a checkpoint folder (no config.json)");
            if (!Data.Datasets.DatasetReader.Exists(recipe.Data.Train)) missing.Add($"data.train {recipe.Data.Train} does not exist");
            if (recipe.Data.Eval is { } eval && !Data.Datasets.DatasetReader.Exists(eval)) missing.Add($"data.eval {eval} does not exist");
            if (missing.Count > 0) throw new UserErrorException($"{path}: " + string.Join("; ", missing));
            return 0;
        });
        var command = new Command("recipe", "Recipe tools: list keys, validate a file.");
        command.Subcommands.Add(keys);
        command.Subcommands.Add(validate);
        return command;
    }
}
