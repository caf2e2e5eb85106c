using VlmTune.Tensors.Cuda.Native;
using VlmTune.Tensors.Cuda.Tests.Support;

namespace VlmTune.Tensors.Cuda.Tests.Native;

/// <summary>
/// The library search (<see cref="CudaLibraries"/>) over fake directory trees and fake variables, the driver probe
/// on this GPU-less machine, and a "driver" that lacks the exports (reported, not crashed on).
/// </summary>
public sealed class CudaLibrariesTests : IDisposable
{
    readonly string _tmp = Directory.CreateTempSubdirectory("vlmtune-cudalib-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { }
    }

    string Dir(string relative)
    {
        var d = Path.Combine(_tmp, relative);
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>libcublas(Lt).so.{major} in <paramref name="dir"/> as links to Debian's .so.11 files (any name loads).</summary>
    static void LinkCublas(string dir, int major)
    {
        File.CreateSymbolicLink(Path.Combine(dir, $"libcublasLt.so.{major}"), Path.Combine(CudaTools.LibDir, "libcublasLt.so.11"));
        File.CreateSymbolicLink(Path.Combine(dir, $"libcublas.so.{major}"), Path.Combine(CudaTools.LibDir, "libcublas.so.11"));
    }

    CudaSearchEnvironment Env(Dictionary<string, string> vars, bool allow11 = false) => new()
    {
        Variable = name => vars.GetValueOrDefault(name),
        Root = Path.Combine(_tmp, "root"),
        AllowCublas11 = allow11,
        UseLoaderDefault = false,
    };

    [Fact]
    public void Directories_come_in_the_documented_order()
    {
        var vars = new Dictionary<string, string>
        {
            ["VLMTUNE_CUDA_LIB_DIR"] = $"{_tmp}/override:{_tmp}/missing-but-named",
            ["CUDA_HOME"] = $"{_tmp}/cuda",
            ["CUDA_PATH"] = $"{_tmp}/cuda-path",
            ["VIRTUAL_ENV"] = $"{_tmp}/venv",
            ["CONDA_PREFIX"] = $"{_tmp}/conda",
            ["HOME"] = $"{_tmp}/home",
        };
        string[] expected =
        [
            Dir("override"),
            Path.Combine(_tmp, "missing-but-named"),
            Dir("cuda/lib64"),
            Dir("cuda/targets/x86_64-linux/lib"),
            Dir("cuda-path/lib64"),
            Dir("venv/lib/python3.12/site-packages/nvidia/cu13/lib"),
            Dir("venv/lib/python3.12/site-packages/nvidia/cublas/lib"),
            Dir("venv/lib/python3.9/site-packages/nvidia/cu13/lib"), // newest python first
            Dir("conda/lib/python3.11/site-packages/nvidia/cublas/lib"),
            Dir("root/opt/a/.venv/lib/python3.12/site-packages/nvidia/cu13/lib"),
            Dir("root/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib"),
            Dir("root/usr/local/lib/python3.11/dist-packages/nvidia/cublas/lib"),
            Dir("root/usr/lib/python3/dist-packages/nvidia/cu13/lib"),
            Dir("home/.local/lib/python3.10/site-packages/nvidia/cublas/lib"),
            Dir("root/usr/local/cuda/lib64"),
            Dir("root/usr/local/cuda-13.0/lib64"),
            Dir("root/usr/local/cuda-12.10/lib64"),
            Dir("root/usr/local/cuda-12.4/lib64"),
        ];
        Dir("venv/lib/python3.12/site-packages/nvidia/other/lib"); // not a cuBLAS location
        Dir("root/opt/empty");
        Assert.Equal(expected, CudaLibraries.CublasDirectories(Env(vars)));
        Assert.Equal([13, 12], CudaLibraries.CublasMajors(Env(vars)));
        Assert.Equal([13, 12, 11], CudaLibraries.CublasMajors(Env(vars, allow11: true)));
    }

    [Fact]
    public void First_directory_with_both_libraries_wins_and_newer_majors_first()
    {
        var onlyLt = Dir("cuda/lib64");
        File.CreateSymbolicLink(Path.Combine(onlyLt, "libcublasLt.so.13"), Path.Combine(CudaTools.LibDir, "libcublasLt.so.11"));
        var venv = Dir("root/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib");
        LinkCublas(venv, 12);
        LinkCublas(venv, 11);
        LinkCublas(Dir("root/usr/local/cuda/lib64"), 13);
        var s = CudaLibraries.LoadCublas(Env(new() { ["CUDA_HOME"] = $"{_tmp}/cuda" }, allow11: true));
        Assert.Null(s.Failure);
        Assert.Equal(Path.Combine(venv, "libcublas.so.12"), s.Library!.CublasPath);
        Assert.Equal(Path.Combine(venv, "libcublasLt.so.12"), s.Library.LtPath);
        Assert.Equal(Path.Combine(_tmp, "cuda/lib64"), s.Searched[0]);
    }

    [Fact]
    public void Cublas_11_is_taken_only_when_asked()
    {
        var vars = new Dictionary<string, string> { ["VLMTUNE_CUDA_LIB_DIR"] = CudaTools.LibDir };
        var no = CudaLibraries.LoadCublas(Env(vars));
        Assert.Null(no.Library);
        Assert.StartsWith("cuBLAS was not found", no.Failure);
        Assert.Contains(CudaTools.LibDir, no.Failure);
        Assert.Contains("libcublas.so.13 or libcublas.so.12", no.Failure);
        var yes = CudaLibraries.LoadCublas(Env(vars, allow11: true));
        Assert.Equal(Path.Combine(CudaTools.LibDir, "libcublas.so.11"), yes.Library!.CublasPath);
    }

    [Fact]
    public void A_broken_library_is_reported_and_the_search_goes_on()
    {
        var bad = Dir("bad");
        File.WriteAllText(Path.Combine(bad, "libcublasLt.so.13"), "not an ELF file");
        File.WriteAllText(Path.Combine(bad, "libcublas.so.13"), "not an ELF file");
        var good = Dir("good");
        LinkCublas(good, 12);
        var s = CudaLibraries.LoadCublas(Env(new() { ["VLMTUNE_CUDA_LIB_DIR"] = $"{bad}:{good}" }));
        Assert.Equal(Path.Combine(good, "libcublas.so.12"), s.Library!.CublasPath);
        var only = CudaLibraries.LoadCublas(Env(new() { ["VLMTUNE_CUDA_LIB_DIR"] = bad }));
        Assert.Null(only.Library);
        Assert.StartsWith("cuBLAS could not be used", only.Failure);
        Assert.Contains("did not load", only.Failure);
    }

    [Fact]
    public void A_driver_without_the_exports_is_reported()
    {
        // a real shared library that is not the driver, under the driver's name
        var dir = Dir("fake-driver");
        File.Copy(Path.Combine(CudaTools.LibDir, "libcudart.so.11.0"), Path.Combine(dir, "libcuda.so.1"));
        var s = CudaLibraries.LoadDriver(Env(new() { ["VLMTUNE_CUDA_LIB_DIR"] = dir }));
        Assert.Null(s.Library);
        Assert.Contains("does not export cuInit", s.Failure);
        Assert.Contains(Path.Combine(dir, "libcuda.so.1"), s.Failure);
        var probe = CudaProbe.Probe(Env(new() { ["VLMTUNE_CUDA_LIB_DIR"] = dir }));
        Assert.False(probe.DriverFound);
        Assert.False(probe.Usable);
        Assert.Contains("does not export cuInit", probe.Reason);
    }

    [Fact]
    public void No_driver_anywhere_is_reported_cleanly()
    {
        // a fake, empty system root and no loader fallback: deterministic whatever this process has loaded
        var p = CudaProbe.Probe(Env(new() { ["VLMTUNE_CUDA_LIB_DIR"] = Dir("empty") }));
        Assert.False(p.DriverFound);
        Assert.Null(p.DriverPath);
        Assert.Empty(p.Gpus);
        Assert.False(p.Usable);
        Assert.Equal($"no NVIDIA driver: libcuda.so.1 was not found (looked in {Path.Combine(_tmp, "empty")}).", p.Reason);
    }

    /// <summary>
    /// This machine's real probe (loader path and system directories). There is no NVIDIA driver here, but another
    /// test of this assembly loads Debian's libcuda.so.1 (no GPU), after which the loader finds that by its soname;
    /// either way the probe must answer with one sentence, not throw.
    /// </summary>
    [Fact]
    public void Probe_on_this_machine_reports_without_throwing()
    {
        var p = CudaProbe.Probe();
        if (p.Usable) return; // a machine with a GPU
        Assert.EndsWith(".", p.Reason);
        Assert.DoesNotContain('\n', p.Reason!);
        if (!p.DriverFound)
        {
            Assert.Null(p.DriverPath);
            Assert.StartsWith("no NVIDIA driver: libcuda.so.1 was not found", p.Reason);
            Assert.Contains("(loader path)", p.Reason);
        }
        else
        {
            Assert.NotNull(p.DriverPath);
            Assert.NotNull(p.DriverVersionText);
        }
    }

    [Fact]
    public void Probe_finds_cublas_where_told()
    {
        var p = CudaProbe.Probe(Env(new() { ["VLMTUNE_CUDA_LIB_DIR"] = CudaTools.LibDir }, allow11: true));
        Assert.True(p.CublasFound);
        Assert.Equal(Path.Combine(CudaTools.LibDir, "libcublas.so.11"), p.CublasPath);
        Assert.Equal(Path.Combine(CudaTools.LibDir, "libcublasLt.so.11"), p.CublasLtPath);
        Assert.StartsWith("11.", p.CublasVersion);
        Assert.Equal([CudaTools.LibDir], p.CublasSearched);
        Assert.False(p.Usable); // no driver here
    }

    [Fact]
    public void A_gpu_backend_without_a_gpu_is_one_sentence()
    {
        if (CudaProbe.Probe().Usable) return; // only meaningful on a machine without a usable GPU
        var e = Assert.Throws<CudaUnavailableException>(() => CudaBackend.Create(new CudaBackendOptions { Simulate = false }));
        Assert.Matches("^(no NVIDIA driver|no CUDA GPU is visible)", e.Message);
        Assert.EndsWith(".", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
