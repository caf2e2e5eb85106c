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
        return CliRunner.Invoke(root, args);
    }
}
