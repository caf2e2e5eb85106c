using System.CommandLine;

namespace VlmTune.Cli.Commands;

/// <summary>`vlmtune selfcheck`: runs the engine's self-check (a tiny training loop on the CPU backend).</summary>
public static class SelfCheckCommand
{
    public static Command Create()
    {
        var command = new Command("selfcheck", "Run the tensor engine's self-check on the CPU backend.");
        command.SetAction(_ =>
        {
            Console.WriteLine("selfcheck: engine not built yet");
            return 0;
        });
        return command;
    }
}
