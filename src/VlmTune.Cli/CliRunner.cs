using System.CommandLine;

namespace VlmTune.Cli;

/// <summary>
/// Runs a parsed command line. User-facing failures (<see cref="UserErrorException"/> and the typed errors
/// of the libraries) print one clear line and exit with 1; nothing prints a stack trace unless VLMTUNE_DEBUG=1.
/// </summary>
public static class CliRunner
{
    public static int Invoke(RootCommand root, string[] args)
    {
        try
        {
            var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
            return root.Parse(args).Invoke(config);
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("VLMTUNE_DEBUG") != "1")
        {
            Console.Error.WriteLine($"error: {Describe(e)}");
            return 1;
        }
    }

    static string Describe(Exception e) =>
        e is AggregateException { InnerExceptions.Count: 1 } a ? Describe(a.InnerExceptions[0]) : e.Message;
}

/// <summary>An error caused by the user's input (a file, a flag, a record); its message is shown as is.</summary>
public sealed class UserErrorException(string message) : Exception(message);
