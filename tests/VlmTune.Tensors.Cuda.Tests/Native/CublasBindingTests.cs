using System.Runtime.InteropServices;
using VlmTune.Tensors.Cuda.Native;
using VlmTune.Tensors.Cuda.Tests.Support;

namespace VlmTune.Tensors.Cuda.Tests.Native;

/// <summary>
/// Our cuBLAS / cuBLASLt bindings against real NVIDIA libraries with no GPU: Debian's libcublas.so.11 and
/// libcublasLt.so.11 (fetched by .ci/fetch-cuda-tools.sh; if that fails, these tests fail). Every export we bind
/// must resolve; calls that need no GPU are made for real (versions, status names, cuBLASLt descriptors, which are
/// host objects), and the ones that need a GPU must fail cleanly.
/// </summary>
public class CublasBindingTests
{
    static readonly Lazy<CublasLibrary> _lib = new(() =>
    {
        var search = CudaLibraries.LoadCublas(Env(CudaTools.LibDir));
        return search.Library ?? throw new InvalidOperationException($"Debian cuBLAS 11 did not load: {search.Failure}");
    });

    static CublasLibrary Lib => _lib.Value;

    /// <summary>Only VLMTUNE_CUDA_LIB_DIR set, an empty fake system root, cuBLAS 11 allowed, no loader fallback.</summary>
    internal static CudaSearchEnvironment Env(string? libDir, string? root = null) => new()
    {
        Variable = name => name == "VLMTUNE_CUDA_LIB_DIR" ? libDir : null,
        Root = root ?? Path.Combine(Path.GetTempPath(), "vlmtune-no-such-root"),
        AllowCublas11 = true,
        UseLoaderDefault = false,
    };

    [Fact]
    public void Every_bound_export_resolves_in_debian_cublas_11()
    {
        var missing = new List<string>();
        foreach (var (file, names) in new[] { ("libcublasLt.so.11", CublasLibrary.LtExports), ("libcublas.so.11", CublasLibrary.CublasExports) })
        {
            var h = NativeLibrary.Load(Path.Combine(CudaTools.LibDir, file));
            foreach (var name in names)
                if (!NativeLibrary.TryGetExport(h, name, out var p) || p == 0) missing.Add($"{file}:{name}");
        }
        Assert.Empty(missing);
        Assert.Contains("cublasGemmEx", CublasLibrary.CublasExports);
        Assert.Contains("cublasGemmStridedBatchedEx", CublasLibrary.CublasExports);
        Assert.Contains("cublasLtMatmul", CublasLibrary.LtExports);
    }

    [Fact]
    public void Loader_binds_both_libraries_and_reads_versions_without_a_gpu()
    {
        Assert.Equal(Path.Combine(CudaTools.LibDir, "libcublas.so.11"), Lib.CublasPath);
        Assert.Equal(Path.Combine(CudaTools.LibDir, "libcublasLt.so.11"), Lib.LtPath);
        Assert.Equal(0, Lib.GetProperty(CublasConst.PropertyMajor, out int major));
        Assert.Equal(11, major);
        Assert.Equal(11, Lib.Major);
        Assert.StartsWith("11.", Lib.VersionText());
        Assert.InRange(Lib.LtVersion, 110000, 119999);
        Assert.Equal("CUBLAS_STATUS_NOT_INITIALIZED", Lib.StatusName(CublasConst.StatusNotInitialized));
        Assert.Equal("CUBLAS_STATUS_INVALID_VALUE", Lib.StatusName(CublasConst.StatusInvalidValue));
    }

    [Fact]
    public void Creating_a_handle_without_a_gpu_is_a_clear_error()
    {
        Assert.Equal(CublasConst.StatusNotInitialized, Lib.TryCreateHandle(out _));
        var e = Assert.Throws<CudaUnavailableException>(() => Lib.CreateHandle());
        Assert.Contains("CUBLAS_STATUS_NOT_INITIALIZED", e.Message);
        Assert.Contains("cublasCreate_v2", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.EndsWith(".", e.Message);
        Assert.NotEqual(CublasConst.StatusSuccess, Lib.LtCreate(out _)); // cuBLASLt also refuses, without crashing
    }

    [Theory]
    [InlineData(1, 7, 5, 3, false, true, DType.BF16, DType.F32)]
    [InlineData(3, 4, 6, 9, true, false, DType.F32, DType.F32)]
    [InlineData(2, 17, 1, 33, true, true, DType.F16, DType.F16)]
    public void Lt_descriptors_hold_the_mapped_layouts(int batch, int m, int n, int k, bool ta, bool tb, DType ab, DType c)
    {
        var g = CublasMapping.Map(GemmShape.ForMatMul(batch, m, n, k, ta, tb, true, batch > 1 && ta, 1f, false, ab, c));
        var l = CublasMapping.Layouts(g);
        CublasGemm.DescribeLt(Lib, g, (desc, a, b, cl) =>
        {
            Assert.Equal(0, Lib.MatmulDescGet(desc, CublasConst.LtDescTransA, out int transA));
            Assert.Equal(0, Lib.MatmulDescGet(desc, CublasConst.LtDescTransB, out int transB));
            Assert.Equal(0, Lib.MatmulDescGet(desc, CublasConst.LtDescComputeType, out int compute));
            Assert.Equal((g.TransA, g.TransB, CublasConst.Compute32F), (transA, transB, compute));
            foreach (var (layout, type, rows, cols, ld, stride) in new[]
            {
                (a, g.AType, l.ARows, l.ACols, l.Lda, g.StrideA),
                (b, g.BType, l.BRows, l.BCols, l.Ldb, g.StrideB),
                (cl, g.CType, l.CRows, l.CCols, l.Ldc, g.StrideC),
            })
            {
                Assert.Equal(0, Lib.LayoutGet(layout, CublasConst.LtLayoutType, out long t));
                Assert.Equal(0, Lib.LayoutGet(layout, CublasConst.LtLayoutRows, out long r));
                Assert.Equal(0, Lib.LayoutGet(layout, CublasConst.LtLayoutCols, out long cc));
                Assert.Equal(0, Lib.LayoutGet(layout, CublasConst.LtLayoutLd, out long ldv));
                Assert.Equal(0, Lib.LayoutGet(layout, CublasConst.LtLayoutBatchCount, out long count));
                Assert.Equal(0, Lib.LayoutGet(layout, CublasConst.LtLayoutOrder, out long order));
                Assert.Equal((type, (long)rows, (long)cols, ld, batch, 0L), ((int)t, r, cc, ldv, (int)count, order));
                if (batch > 1)
                {
                    Assert.Equal(0, Lib.LayoutGet(layout, CublasConst.LtLayoutStridedBatchOffset, out long so));
                    Assert.Equal(stride, so);
                }
            }
        });
        Assert.Equal(0, Lib.PreferenceCreate(out var pref));
        Assert.Equal(0, Lib.PreferenceSetMaxWorkspace(pref, CublasGemm.WorkspaceBytes));
        Assert.Equal(0, Lib.PreferenceDestroy(pref));
    }
}
