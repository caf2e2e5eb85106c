namespace VlmTune.Cli.Tests;

/// <summary>Runs the tool in-process with captured output (tests using it share the "console" collection).</summary>
public static class CliHarness
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try { return (Program.Main(args), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VlmTune.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("VlmTune.sln not found");
    }
}
