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

    static string Describe(Exception e)
    {
        if (e is AggregateException a)
        {
            var inner = a.Flatten().InnerExceptions;
            var first = Describe(inner[0]);
            int others = inner.Skip(1).Select(Describe).Count(m => m != first);
            return others == 0 ? first : $"{first} (and {others} more)";
        }
        // Argument exceptions carry .NET's "(Parameter 'x')" and "Actual value was" decorations: keep the sentence.
        if (e is ArgumentException arg)
        {
            var message = arg.Message.Split('\n')[0];
            int at = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            return at >= 0 ? message[..at] : message;
        }
        return e.Message;
    }
}

/// <summary>An error caused by the user's input (a file, a flag, a record); its message is shown as is.</summary>
public sealed class UserErrorException(string message) : Exception(message);
