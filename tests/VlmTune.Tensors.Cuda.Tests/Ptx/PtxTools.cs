using System.Diagnostics;
using Fetched = VlmTune.Tensors.Cuda.Tests.Support.CudaTools;

namespace VlmTune.Tensors.Cuda.Tests.Ptx;

/// <summary>
/// NVIDIA's command-line tools (ptxas, cuobjdump) for the PTX gate, from the tree that <c>.ci/fetch-cuda-tools.sh</c>
/// unpacks (<see cref="Fetched"/> runs the script: idempotent, ~0.1 s once cached, ~25 s the first time), so the gate
/// works the same under <c>.ci/run</c> (which exports <c>VLMTUNE_CUDA_TOOLS</c>) and under a plain <c>dotnet test</c>.
/// A failure of the script is a test failure carrying its message — the gate is never skipped.
/// </summary>
public static class PtxTools
{
    static readonly Lazy<string> _root = new(() =>
    {
        string root;
        try { root = Fetched.Root; }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                "PTX gate: .ci/fetch-cuda-tools.sh FAILED, so there is no ptxas and no kernel can be checked: this is a " +
                $"failure, not a skip.\n{e.Message}", e);
        }
        if (!File.Exists(Path.Combine(root, "usr", "bin", "ptxas")))
            throw new InvalidOperationException($"PTX gate: .ci/fetch-cuda-tools.sh printed {root}, which has no usr/bin/ptxas");
        return root;
    });

    static readonly Lazy<string> _version = new(() =>
        Run(Ptxas, ["--version"], null, TimeSpan.FromMinutes(1)).Stdout.Split('\n', StringSplitOptions.TrimEntries)
            .LastOrDefault(l => l.StartsWith("Cuda compilation tools", StringComparison.Ordinal))
            ?.Replace("Cuda compilation tools, ", "ptxas ", StringComparison.Ordinal) ?? "ptxas (unknown version)");

    /// <summary>The repository root (the folder holding .ci/fetch-cuda-tools.sh).</summary>
    public static string RepoRoot => Fetched.RepositoryRoot;

    public static string Ptxas => Path.Combine(_root.Value, "usr", "bin", "ptxas");
    public static string Cuobjdump => Path.Combine(_root.Value, "usr", "bin", "cuobjdump");

    /// <summary>e.g. "ptxas release 11.8, V11.8.89".</summary>
    public static string PtxasVersion => _version.Value;

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
