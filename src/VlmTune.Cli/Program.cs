using System.CommandLine;
using VlmTune.Cli.Commands;

namespace VlmTune.Cli;

/// <summary>Entry point of the `vlmtune` tool: wires the verbs together and maps failures to exit codes.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("vlmtune: fine-tune SmolVLM / Idefics3 vision-language models with LoRA and QLoRA.");
        root.Subcommands.Add(SelfCheckCommand.Create());
        root.Subcommands.Add(EnvCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(PreprocessCommand.Create());
        root.Subcommands.Add(InitCommand.Create());
        root.Subcommands.Add(ForwardCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ChatCommand.Create());
        root.Subcommands.Add(TextBatchCommands.CreateDecode());
        root.Subcommands.Add(TextBatchCommands.CreateRender());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(MergeCommand.Create());
        root.Subcommands.Add(TrainCommand.Create(VlmTune.Recipes.RecipeKind.Sft));
        root.Subcommands.Add(TrainCommand.Create(VlmTune.Recipes.RecipeKind.Dpo));
        root.Subcommands.Add(RecipeCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());

        // `inspect` groups read-only checks; each subcommand is one line here.
        var inspect = new Command("inspect", "Inspect a dataset or a model checkpoint without training.");
        inspect.Subcommands.Add(InspectDatasetCommand.Create());
        inspect.Subcommands.Add(InspectModelCommand.Create());
        inspect.Subcommands.Add(InspectLoraCommand.Create());
        root.Subcommands.Add(inspect);
        return CliRunner.Invoke(root, args);
    }
}
