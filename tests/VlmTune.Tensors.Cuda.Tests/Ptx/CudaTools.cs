using System.Diagnostics;

namespace VlmTune.Tensors.Cuda.Tests.Ptx;

/// <summary>
/// NVIDIA's command-line tools (ptxas, cuobjdump) unpacked by <c>.ci/fetch-cuda-tools.sh</c> into a cache. The script
/// is always run (idempotent: ~0.1 s once cached, ~25 s the first time), so the tests work the same under
/// <c>.ci/run</c> (which exports <c>VLMTUNE_CUDA_TOOLS</c>) and under a plain <c>dotnet test</c>. A failure of the
/// script is a test failure carrying its output — the gate is never skipped.
/// </summary>
public static class CudaTools
{
    static readonly Lazy<string> _root = new(Fetch);

    /// <summary>The repository root (the folder holding .ci/fetch-cuda-tools.sh), found upwards from the test binaries.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The unpacked package root (ROOT/usr/bin/ptxas).</summary>
    public static string Root => _root.Value;
    public static string Ptxas => Path.Combine(Root, "usr", "bin", "ptxas");
    public static string Cuobjdump => Path.Combine(Root, "usr", "bin", "cuobjdump");

    static readonly Lazy<string> _version = new(() =>
        Run(Ptxas, ["--version"], null, TimeSpan.FromMinutes(1)).Stdout.Split('\n', StringSplitOptions.TrimEntries)
            .LastOrDefault(l => l.StartsWith("Cuda compilation tools", StringComparison.Ordinal))
            ?.Replace("Cuda compilation tools, ", "ptxas ", StringComparison.Ordinal) ?? "ptxas (unknown version)");

    /// <summary>e.g. "ptxas release 11.8, V11.8.89".</summary>
    public static string PtxasVersion => _version.Value;

    static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, ".ci", "fetch-cuda-tools.sh"))) return d.FullName;
        throw new InvalidOperationException(
            $"PTX gate: no .ci/fetch-cuda-tools.sh in any folder above {AppContext.BaseDirectory}: cannot fetch ptxas");
    }

    static string Fetch()
    {
        var script = Path.Combine(RepoRoot, ".ci", "fetch-cuda-tools.sh");
        var r = Run("bash", [script], RepoRoot, TimeSpan.FromMinutes(10));
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var root = lines.Length > 0 ? lines[^1] : "";
        if (r.ExitCode != 0 || root.Length == 0 || !File.Exists(Path.Combine(root, "usr", "bin", "ptxas")))
            throw new InvalidOperationException(
                $"PTX gate: .ci/fetch-cuda-tools.sh FAILED (exit {r.ExitCode}{(r.TimedOut ? ", timed out" : "")}); " +
                $"without ptxas no kernel can be checked, so this is a failure, not a skip.\n" +
                $"--- stdout ---\n{r.Stdout}\n--- stderr ---\n{r.Stderr}");
        return root;
    }

    public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr, bool TimedOut)
    {
        public string Output => Stderr.Length == 0 ? Stdout : Stdout.Length == 0 ? Stderr : Stdout + "\n" + Stderr;
    }

    /// <summary>Runs a program to completion (stdout and stderr captured; killed after <paramref name="timeout"/>).</summary>
    public static ProcessResult Run(string file, IEnumerable<string> args, string? workingDirectory, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        bool timedOut = !p.WaitForExit(timeout);
        if (timedOut) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        return new ProcessResult(timedOut ? -1 : p.ExitCode, stdout.Result, stderr.Result, timedOut);
    }
}
