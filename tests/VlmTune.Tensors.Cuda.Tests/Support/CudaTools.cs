using System.Diagnostics;

namespace VlmTune.Tensors.Cuda.Tests.Support;

/// <summary>
/// NVIDIA's CUDA 11.8 libraries and the 535 driver library from Debian non-free, unpacked by <c>.ci/fetch-cuda-tools.sh</c> (cached after the
/// first run). A failure of the script fails the test with its message: these tests never skip.
/// </summary>
public static class CudaTools
{
    static readonly Lazy<string> _root = new(Fetch);

    /// <summary>The unpacked root (ROOT/usr/bin/ptxas, ROOT/usr/lib/x86_64-linux-gnu/libcublas.so.11, ...).</summary>
    public static string Root => _root.Value;

    /// <summary>The directory of libcublas.so.11, libcublasLt.so.11 and libcudart.so.11.0.</summary>
    public static string LibDir => Path.Combine(Root, "usr", "lib", "x86_64-linux-gnu");

    /// <summary>The directory of Debian's libcuda.so.1 (the real driver library of package libcuda1; no GPU needed to load it).</summary>
    public static string DriverDir => Path.Combine(Root, "usr", "lib", "x86_64-linux-gnu", "nvidia", "current");

    public static string RepositoryRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, ".ci", "fetch-cuda-tools.sh"))) return d.FullName;
            throw new InvalidOperationException($"no .ci/fetch-cuda-tools.sh above {AppContext.BaseDirectory}");
        }
    }

    static string Fetch()
    {
        var script = Path.Combine(RepositoryRoot, ".ci", "fetch-cuda-tools.sh");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start bash {script}");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{script} did not finish in 10 minutes");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{script} failed with exit code {p.ExitCode}: {stderr.Result.Trim()}");
        var root = stdout.Trim().Split('\n').Last().Trim();
        if (!Directory.Exists(root)) throw new InvalidOperationException($"{script} printed '{root}', which is not a directory");
        return root;
    }
}
