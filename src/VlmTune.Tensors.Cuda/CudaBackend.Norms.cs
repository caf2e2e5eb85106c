using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

// Norms family: LayerNorm, RMSNorm, softmax / log-softmax over rows of (N,C) (Kernels/NormKernels.cs).
// Forward caches mean, rstd (N) (LayerNorm) or rstd (N) (RMSNorm); backward writes dx and accumulates dw, db (+=).
// Any strides; float tensors may be f32 or bf16 (statistics in f32).
public sealed partial class CudaBackend
{
    Action<KernelConfig, KTensor, KTensor, KTensor, int, float, KTensor, KTensor, KTensor, int>? _layerNorm;
    Action<KernelConfig, KTensor, KTensor, KTensor, KTensor, KTensor, KTensor, int>? _layerNormBackward;
    Action<KernelConfig, KTensor, KTensor, float, KTensor, KTensor, int>? _rmsNorm;
    Action<KernelConfig, KTensor, KTensor, KTensor, KTensor, KTensor, int>? _rmsNormBackward;
    Action<KernelConfig, KTensor, KTensor, KTensor, KTensor, int, int, ArrayView<float>, int>? _columnPartials;
    Action<KernelConfig, ArrayView<float>, int, KTensor, int, KTensor, int>? _columnFinish;
    Action<KernelConfig, KTensor, KTensor, int, int>? _softmax;
    Action<KernelConfig, KTensor, KTensor, KTensor, int, int>? _softmaxBackward;

    /// <summary>Rows of at most this many warp widths go to one warp (WarpRows); longer rows to one group (Rows).</summary>
    const int WarpRowWidths = 32;

    /// <summary>Launch and mode for a row kernel over (n, c): a warp per row for short rows, else a group per row.</summary>
    (KernelConfig Config, int WarpMode) RowLaunch(long n, long c) =>
        c <= (long)WarpRowWidths * WarpSize ? (WarpRows(n), 1) : (Rows(n), 0);

    static (int N, int C) RowsOf(Tensor x, string op)
    {
        if (x.Rank != 2) throw new ShapeException($"{op}: expected (N,C), got {x.Shape}");
        return (x.Shape[0], x.Shape[1]);
    }

    static void Expect(Tensor t, Shape shape, string op, string name)
    {
        if (t.Shape != shape) throw new ShapeException($"{op}: {name} must be {shape}, got {t.Shape}");
    }

    public void LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps, Tensor y, Tensor mean, Tensor rstd)
    {
        var (n, c) = RowsOf(x, "layer_norm");
        Expect(weight, new Shape(c), "layer_norm", "weight");
        if (bias != null) Expect(bias, new Shape(c), "layer_norm", "bias");
        Expect(y, x.Shape, "layer_norm", "y");
        Expect(mean, new Shape(n), "layer_norm", "mean");
        Expect(rstd, new Shape(n), "layer_norm", "rstd");
        if (n == 0) return;
        _layerNorm ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, int, float, KTensor, KTensor, KTensor, int>(NormKernels.LayerNorm);
        var (cfg, warp) = RowLaunch(n, c);
        _layerNorm(cfg, K(x), K(weight), K(bias ?? weight), bias != null ? 1 : 0, eps, K(y), K(mean), K(rstd), warp);
    }

    public void LayerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dy, Tensor dx, Tensor? dw, Tensor? db)
    {
        var (n, c) = RowsOf(x, "layer_norm_backward");
        Expect(weight, new Shape(c), "layer_norm_backward", "weight");
        Expect(mean, new Shape(n), "layer_norm_backward", "mean");
        Expect(rstd, new Shape(n), "layer_norm_backward", "rstd");
        Expect(dy, x.Shape, "layer_norm_backward", "dy");
        Expect(dx, x.Shape, "layer_norm_backward", "dx");
        if (dw != null) Expect(dw, new Shape(c), "layer_norm_backward", "dw");
        if (db != null) Expect(db, new Shape(c), "layer_norm_backward", "db");
        if (n == 0) return;
        _layerNormBackward ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, KTensor, KTensor, KTensor, int>(NormKernels.LayerNormBackward);
        var (cfg, warp) = RowLaunch(n, c);
        _layerNormBackward(cfg, K(x), K(weight), K(mean), K(rstd), K(dy), K(dx), warp);
        ColumnGradients(x, mean, rstd, dy, centered: true, dw, db);
    }

    public void RmsNorm(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd)
    {
        var (n, c) = RowsOf(x, "rms_norm");
        Expect(weight, new Shape(c), "rms_norm", "weight");
        Expect(y, x.Shape, "rms_norm", "y");
        Expect(rstd, new Shape(n), "rms_norm", "rstd");
        if (n == 0) return;
        _rmsNorm ??= Accelerator.LoadStreamKernel<KTensor, KTensor, float, KTensor, KTensor, int>(NormKernels.RmsNorm);
        var (cfg, warp) = RowLaunch(n, c);
        _rmsNorm(cfg, K(x), K(weight), eps, K(y), K(rstd), warp);
    }

    public void RmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor? dw)
    {
        var (n, c) = RowsOf(x, "rms_norm_backward");
        Expect(weight, new Shape(c), "rms_norm_backward", "weight");
        Expect(rstd, new Shape(n), "rms_norm_backward", "rstd");
        Expect(dy, x.Shape, "rms_norm_backward", "dy");
        Expect(dx, x.Shape, "rms_norm_backward", "dx");
        if (dw != null) Expect(dw, new Shape(c), "rms_norm_backward", "dw");
        if (n == 0) return;
        _rmsNormBackward ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, KTensor, KTensor, int>(NormKernels.RmsNormBackward);
        var (cfg, warp) = RowLaunch(n, c);
        _rmsNormBackward(cfg, K(x), K(weight), K(rstd), K(dy), K(dx), warp);
        ColumnGradients(x, rstd, rstd, dy, centered: false, dw, null);
    }

    /// <summary>
    /// dw += Σ_rows dy·x̂, db += Σ_rows dy without atomics: partial sums over chunks of rows into a scratch (2,P,C), then
    /// a fixed-order sum over the P chunks. Chunks hold at least 32 rows and P·C stays near one full launch of threads,
    /// so the result depends only on the launch geometry (deterministic run to run).
    /// </summary>
    void ColumnGradients(Tensor x, Tensor mean, Tensor rstd, Tensor dy, bool centered, Tensor? dw, Tensor? db)
    {
        if (dw == null && db == null) return;
        var (n, c) = (x.Shape[0], x.Shape[1]);
        if (c == 0) return;
        long threads = (long)GroupSize * MaxGroups;
        int chunkRows = (int)Math.Min(Math.Max(((long)n * c + threads - 1) / threads, 32), n);
        int parts = (n + chunkRows - 1) / chunkRows;
        long floats = 2L * parts * c;
        using var scratch = new CudaStorage(_device, _allocator, floats * sizeof(float));
        var partial = scratch.View.Cast<float>().SubView(0, floats);
        _columnPartials ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, KTensor, int, int, ArrayView<float>, int>(NormKernels.ColumnPartials);
        _columnFinish ??= Accelerator.LoadStreamKernel<ArrayView<float>, int, KTensor, int, KTensor, int>(NormKernels.ColumnFinish);
        _columnPartials(Grid((long)parts * c), K(x), K(dy), K(mean), K(rstd), centered ? 1 : 0, db != null ? 1 : 0, partial, chunkRows);
        var any = K(dw ?? db!);
        _columnFinish(Grid(c), partial, parts, dw != null ? K(dw) : any, dw != null ? 1 : 0, db != null ? K(db) : any, db != null ? 1 : 0);
        // The scratch block goes back to the allocator now; the stream runs in issue order, so a later op that rents it
        // runs after these kernels.
    }

    public void Softmax(Tensor x, Tensor y, bool log)
    {
        var (n, c) = RowsOf(x, "softmax");
        Expect(y, x.Shape, "softmax", "y");
        if (n == 0 || c == 0) return;
        _softmax ??= Accelerator.LoadStreamKernel<KTensor, KTensor, int, int>(NormKernels.Softmax);
        var (cfg, warp) = RowLaunch(n, c);
        _softmax(cfg, K(x), K(y), log ? 1 : 0, warp);
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, bool log)
    {
        var (n, c) = RowsOf(y, "softmax_backward");
        Expect(dy, y.Shape, "softmax_backward", "dy");
        Expect(dx, y.Shape, "softmax_backward", "dx");
        if (n == 0 || c == 0) return;
        _softmaxBackward ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, int, int>(NormKernels.SoftmaxBackward);
        var (cfg, warp) = RowLaunch(n, c);
        _softmaxBackward(cfg, K(y), K(dy), K(dx), log ? 1 : 0, warp);
    }
}
