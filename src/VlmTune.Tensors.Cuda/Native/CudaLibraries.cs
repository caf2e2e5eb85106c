using System.Runtime.InteropServices;

namespace VlmTune.Tensors.Cuda.Native;

/// <summary>
/// Where the native CUDA libraries are looked for: the environment variables and the file-system root (tests pass
/// a fake tree and fake variables; the process uses <see cref="FromProcess"/>).
/// </summary>
public sealed record CudaSearchEnvironment
{
    /// <summary>Reads an environment variable (null when unset).</summary>
    public Func<string, string?> Variable { get; init; } = Environment.GetEnvironmentVariable;
    /// <summary>The system directories (/opt, /usr/...) are taken under this root.</summary>
    public string Root { get; init; } = "/";
    /// <summary>Also accept cuBLAS 11 (libcublas.so.11): tests, or <c>VLMTUNE_CUDA_ALLOW_CUBLAS11=1</c>.</summary>
    public bool AllowCublas11 { get; init; }
    /// <summary>Finally try the bare sonames (LD_LIBRARY_PATH, the ld.so cache).</summary>
    public bool UseLoaderDefault { get; init; } = true;

    public static CudaSearchEnvironment FromProcess() => new()
    {
        AllowCublas11 = Environment.GetEnvironmentVariable("VLMTUNE_CUDA_ALLOW_CUBLAS11")?.Trim().ToLowerInvariant() is "1" or "true" or "yes",
    };

    internal string Sys(string path) => Root == "/" ? path : Path.Combine(Root, path.TrimStart('/'));
}

/// <summary>The outcome of looking for one library: what loaded (or why nothing did) and where it looked.</summary>
internal sealed record LibrarySearch<T>(T? Library, IReadOnlyList<string> Searched, string? Failure) where T : class;

/// <summary>
/// Finds and loads libcuda.so.1 and libcublasLt + libcublas (.so.13, else .so.12; .so.11 only when asked), by
/// absolute path in a fixed order of directories, then by bare soname through the loader (engine.md §6).
/// </summary>
internal static class CudaLibraries
{
    /// <summary>cuBLAS majors tried in each directory, newest first.</summary>
    public static int[] CublasMajors(CudaSearchEnvironment env) => env.AllowCublas11 ? [13, 12, 11] : [13, 12];

    /// <summary>
    /// Candidate directories for cuBLAS, in search order: $VLMTUNE_CUDA_LIB_DIR (':'-separated), $CUDA_HOME and
    /// $CUDA_PATH (+ lib64, targets/x86_64-linux/lib), python site-packages (+ nvidia/cu13/lib, nvidia/cublas/lib)
    /// of $VIRTUAL_ENV, $CONDA_PREFIX, /opt/*/.venv, /usr/local/lib/python3*/dist-packages,
    /// /usr/lib/python3/dist-packages, ~/.local; then /usr/local/cuda/lib64, /usr/local/cuda-*/lib64 (newest first).
    /// Directories named by a variable are listed even when missing; found ones only otherwise.
    /// </summary>
    public static IReadOnlyList<string> CublasDirectories(CudaSearchEnvironment env)
    {
        var dirs = new List<string>();
        void Add(string? d, bool always = false)
        {
            if (string.IsNullOrWhiteSpace(d)) return;
            d = Path.GetFullPath(d);
            if ((always || Directory.Exists(d)) && !dirs.Contains(d)) dirs.Add(d);
        }
        foreach (var d in Split(env.Variable("VLMTUNE_CUDA_LIB_DIR"))) Add(d, always: true);
        foreach (var v in new[] { "CUDA_HOME", "CUDA_PATH" })
        {
            var root = env.Variable(v);
            if (string.IsNullOrWhiteSpace(root)) continue;
            Add(Path.Combine(root, "lib64"));
            Add(Path.Combine(root, "targets", "x86_64-linux", "lib"));
        }
        foreach (var site in SitePackages(env))
        {
            Add(Path.Combine(site, "nvidia", "cu13", "lib"));
            Add(Path.Combine(site, "nvidia", "cublas", "lib"));
        }
        Add(env.Sys("/usr/local/cuda/lib64"));
        foreach (var d in Glob(env.Sys("/usr/local"), "cuda-*").OrderByDescending(VersionKey)) Add(Path.Combine(d, "lib64"));
        return dirs;
    }

    /// <summary>Python site-packages roots, in the order of <see cref="CublasDirectories"/>.</summary>
    public static IEnumerable<string> SitePackages(CudaSearchEnvironment env)
    {
        foreach (var v in new[] { "VIRTUAL_ENV", "CONDA_PREFIX" })
        {
            var prefix = env.Variable(v);
            if (string.IsNullOrWhiteSpace(prefix)) continue;
            foreach (var py in PythonLibs(Path.Combine(prefix, "lib"))) yield return Path.Combine(py, "site-packages");
        }
        foreach (var opt in Glob(env.Sys("/opt"), "*").Order(StringComparer.Ordinal))
            foreach (var py in PythonLibs(Path.Combine(opt, ".venv", "lib"))) yield return Path.Combine(py, "site-packages");
        foreach (var py in PythonLibs(env.Sys("/usr/local/lib"))) yield return Path.Combine(py, "dist-packages");
        yield return env.Sys("/usr/lib/python3/dist-packages");
        var home = env.Variable("HOME");
        if (!string.IsNullOrWhiteSpace(home))
            foreach (var py in PythonLibs(Path.Combine(home, ".local", "lib"))) yield return Path.Combine(py, "site-packages");
    }

    /// <summary>Directories for the driver after the loader's own search: $VLMTUNE_CUDA_LIB_DIR, then the usual ones.</summary>
    public static IReadOnlyList<string> DriverDirectories(CudaSearchEnvironment env)
    {
        var dirs = new List<string>();
        foreach (var d in Split(env.Variable("VLMTUNE_CUDA_LIB_DIR"))) dirs.Add(Path.GetFullPath(d));
        foreach (var d in new[] { "/usr/local/nvidia/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib" })
            if (Directory.Exists(env.Sys(d))) dirs.Add(env.Sys(d));
        return dirs.Distinct().ToList();
    }

    /// <summary>
    /// libcuda.so.1 from $VLMTUNE_CUDA_LIB_DIR, then the loader (bare soname), then the usual directories; the first
    /// that loads must export every <see cref="CudaDriver.Exports"/> name.
    /// </summary>
    public static LibrarySearch<CudaDriver> LoadDriver(CudaSearchEnvironment env)
    {
        var searched = new List<string>();
        var failures = new List<string>();
        var explicitDirs = Split(env.Variable("VLMTUNE_CUDA_LIB_DIR")).Select(Path.GetFullPath).ToList();
        var candidates = new List<string>();
        candidates.AddRange(explicitDirs.Select(d => Path.Combine(d, CudaDriver.SoName)));
        if (env.UseLoaderDefault) candidates.Add(CudaDriver.SoName);
        candidates.AddRange(DriverDirectories(env).Except(explicitDirs).Select(d => Path.Combine(d, CudaDriver.SoName)));
        foreach (var candidate in candidates)
        {
            bool bare = !candidate.Contains('/');
            searched.Add(bare ? "(loader path)" : Path.GetDirectoryName(candidate)!);
            if (!bare && !File.Exists(candidate)) continue;
            if (!TryLoad(candidate, out var h, out var error))
            {
                if (!bare) failures.Add(error);
                continue;
            }
            var path = bare ? LoadedPath(CudaDriver.SoName) ?? CudaDriver.SoName : candidate;
            if (CudaDriver.TryBind(path, h, out var driver, out var failure)) return new(driver, searched, null);
            failures.Add(failure!);
        }
        string reason = failures.Count > 0
            ? $"the NVIDIA driver library could not be used: {string.Join("; ", failures)}"
            : $"no NVIDIA driver: {CudaDriver.SoName} was not found (looked in {string.Join(", ", searched)})";
        return new(null, searched, reason);
    }

    /// <summary>
    /// libcublasLt then libcublas of the same major from the same directory, by absolute path; then by bare soname.
    /// </summary>
    public static LibrarySearch<CublasLibrary> LoadCublas(CudaSearchEnvironment env)
    {
        var dirs = CublasDirectories(env);
        var majors = CublasMajors(env);
        var failures = new List<string>();
        var searched = dirs.ToList();
        foreach (var dir in dirs)
        {
            foreach (int major in majors)
            {
                var lt = Path.Combine(dir, $"libcublasLt.so.{major}");
                var cb = Path.Combine(dir, $"libcublas.so.{major}");
                if (!File.Exists(lt) || !File.Exists(cb)) continue;
                var lib = TryPair(lt, cb, failures);
                if (lib != null) return new(lib, searched, null);
            }
        }
        if (env.UseLoaderDefault)
        {
            searched.Add("(loader path)");
            foreach (int major in majors)
            {
                var lib = TryPair($"libcublasLt.so.{major}", $"libcublas.so.{major}", failures, quietMissing: true);
                if (lib != null) return new(lib, searched, null);
            }
        }
        var names = string.Join(" or ", majors.Select(m => $"libcublas.so.{m}"));
        string reason = failures.Count > 0
            ? $"cuBLAS could not be used: {string.Join("; ", failures)}"
            : $"cuBLAS was not found: no {names} with its libcublasLt beside it in {(searched.Count > 0 ? string.Join(", ", searched) : "any directory")} (set VLMTUNE_CUDA_LIB_DIR to the directory that holds them)";
        return new(null, searched, reason);
    }

    static CublasLibrary? TryPair(string lt, string cb, List<string> failures, bool quietMissing = false)
    {
        if (!TryLoad(lt, out var hLt, out var e1))
        {
            if (!quietMissing) failures.Add(e1);
            return null;
        }
        if (!TryLoad(cb, out var hCb, out var e2))
        {
            if (!quietMissing) failures.Add(e2);
            return null;
        }
        var ltPath = lt.Contains('/') ? lt : LoadedPath(lt) ?? lt;
        var cbPath = cb.Contains('/') ? cb : LoadedPath(cb) ?? cb;
        if (CublasLibrary.TryBind(cbPath, hCb, ltPath, hLt, out var lib, out var failure)) return lib;
        failures.Add(failure!);
        return null;
    }

    /// <summary>NativeLibrary.Load with the loader's message kept (missing dependency, wrong ELF class, ...).</summary>
    public static bool TryLoad(string path, out nint handle, out string error)
    {
        try
        {
            handle = NativeLibrary.Load(path);
            error = "";
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            handle = 0;
            error = $"{path} did not load ({FirstLine(e.Message)})";
            return false;
        }
    }

    /// <summary>The file a bare soname was loaded from, read from /proc/self/maps (null when not found).</summary>
    public static string? LoadedPath(string soname)
    {
        // libcuda.so.1 is a link to libcuda.so.580.95 (say): match "libcuda.so." too.
        int so = soname.IndexOf(".so", StringComparison.Ordinal);
        var stem = so < 0 ? soname : soname[..(so + 3)] + ".";
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash < 0) continue;
                var file = line[slash..];
                var name = Path.GetFileName(file);
                if (name == soname || name.StartsWith(stem, StringComparison.Ordinal)) return file;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    static string FirstLine(string s)
    {
        int nl = s.IndexOf('\n');
        return (nl < 0 ? s : s[..nl]).Trim();
    }

    static IEnumerable<string> Split(string? list) =>
        string.IsNullOrWhiteSpace(list) ? [] : list.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    static IEnumerable<string> Glob(string dir, string pattern)
    {
        try { return Directory.Exists(dir) ? Directory.GetDirectories(dir, pattern) : []; }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }

    /// <summary>lib/python3.* directories, newest first.</summary>
    static IEnumerable<string> PythonLibs(string lib) => Glob(lib, "python3*").OrderByDescending(VersionKey);

    /// <summary>Sorts "python3.12" after "python3.9" and "cuda-13.0" after "cuda-12.8".</summary>
    static string VersionKey(string path)
    {
        var name = Path.GetFileName(path);
        return string.Concat(name.Split('.', '-').Select(p => int.TryParse(p, out int n) ? n.ToString("D6") : p));
    }
}
